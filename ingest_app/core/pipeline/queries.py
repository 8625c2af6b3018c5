"""Read side: progress of one run (polled every few seconds) and the history of finished runs.

Progress is one primary-key read of the run row (counters and per-company results live there)
plus, only when items failed, one indexed read of at most 200 failed items.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from ingest_app.core.models import IngestionRun, IngestionRunItem, as_utc, utcnow
from ingest_app.core.pipeline.errors import RunNotFound

RUNS = IngestionRun.__table__
ITEMS = IngestionRunItem.__table__
FAILED_ITEMS_LIMIT = 200
# While a run is active its progress is polled every few seconds: keep that answer small.
ACTIVE_FAILED_ITEMS_LIMIT = 20
FINISHED_STATUSES = ("completed", "failed")

_PROGRESS_COLUMNS = [
    RUNS.c.run_id,
    RUNS.c.user_id,
    RUNS.c.status,
    RUNS.c.current_stage,
    RUNS.c.total_jobs_found,
    RUNS.c.jobs_processed,
    RUNS.c.jobs_added,
    RUNS.c.jobs_failed,
    RUNS.c.jobs_archived,
    RUNS.c.companies,
    RUNS.c.created_at,
    RUNS.c.started_at,
    RUNS.c.completed_at,
    RUNS.c.retry_count,
    RUNS.c.error_message,
]


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    start, end = as_utc(start), as_utc(end)
    if start is None or end is None:
        return None
    return round(max(0.0, (end - start).total_seconds()), 3)


def _percent(status: str, processed: int, total: int) -> float:
    if status == "completed":
        return 100.0
    if total <= 0:
        return 0.0
    return round(min(100.0, 100.0 * processed / total), 1)


def company_results(companies: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [
        {
            "company_id": c.get("company_id"),
            "name": c.get("name"),
            "source": c.get("source"),
            "listed": c.get("listed"),
            "archived": c.get("archived"),
            "error": c.get("error"),
            "skipped_reason": c.get("skipped_reason"),
            "archive_rule": c.get("archive_rule"),
        }
        for c in companies or []
    ]


def get_progress(session: Session, user_id: int, run_id: int) -> dict[str, Any]:
    """Where the run is now. RunNotFound for an unknown run or another user's run.

    `failed_items` lists the first failures: up to 20 while the run is active, 200 once it ended.
    """
    run = session.execute(sa.select(*_PROGRESS_COLUMNS).where(RUNS.c.run_id == run_id)).first()
    if run is None or run.user_id != user_id:
        raise RunNotFound(run_id)
    failed_items: list[dict[str, Any]] = []
    if run.jobs_failed:
        rows = session.execute(
            sa.select(ITEMS.c.url, ITEMS.c.company, ITEMS.c.error)
            .where(ITEMS.c.run_id == run_id, ITEMS.c.state == "failed")
            .order_by(ITEMS.c.id)
            .limit(FAILED_ITEMS_LIMIT if run.status in FINISHED_STATUSES else ACTIVE_FAILED_ITEMS_LIMIT)
        ).all()
        failed_items = [{"url": r.url, "company": r.company, "error": r.error} for r in rows]
    started = run.started_at or run.created_at
    return {
        "run_id": run.run_id,
        "status": run.status,
        "current_stage": run.current_stage,
        "total_jobs_found": run.total_jobs_found,
        "jobs_processed": run.jobs_processed,
        "jobs_added": run.jobs_added,
        "jobs_failed": run.jobs_failed,
        "jobs_archived": run.jobs_archived,
        "percent": _percent(run.status, run.jobs_processed, run.total_jobs_found),
        "elapsed_seconds": _seconds(started, run.completed_at or utcnow()) or 0.0,
        "companies": company_results(run.companies),
        "error_message": run.error_message,
        "created_at": as_utc(run.created_at),
        "started_at": as_utc(run.started_at),
        "completed_at": as_utc(run.completed_at),
        "retry_count": run.retry_count,
        "failed_items": failed_items,
    }


def list_history(session: Session, user_id: int, limit: int = 10) -> list[dict[str, Any]]:
    """The user's finished (completed or failed) runs, newest first."""
    limit = max(1, min(int(limit), 100))
    rows = session.execute(
        sa.select(*_PROGRESS_COLUMNS)
        .where(RUNS.c.user_id == user_id, RUNS.c.status.in_(FINISHED_STATUSES))
        .order_by(RUNS.c.created_at.desc(), RUNS.c.run_id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "run_id": r.run_id,
            "status": r.status,
            "created_at": as_utc(r.created_at),
            "started_at": as_utc(r.started_at),
            "completed_at": as_utc(r.completed_at),
            "duration_seconds": _seconds(r.started_at or r.created_at, r.completed_at),
            "companies": [c.get("name") for c in r.companies or []],
            "total_jobs_found": r.total_jobs_found,
            "jobs_processed": r.jobs_processed,
            "jobs_added": r.jobs_added,
            "jobs_archived": r.jobs_archived,
            "jobs_failed": r.jobs_failed,
            "error_message": r.error_message,
        }
        for r in rows
    ]
