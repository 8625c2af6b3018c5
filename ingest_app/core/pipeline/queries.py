"""Read side: progress of one run (polled every few seconds) and the history of finished runs.

Progress is one primary-key read of the run row (counters and per-company results live there)
plus, only when items failed, one indexed read of at most 200 failed items (and the same for
items skipped because their page is not a job posting: those are not failures).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from ingest_app.core.models import IngestionRun, IngestionRunItem, as_utc, utcnow
from ingest_app.core.pipeline.errors import RunNotFound
from ingest_app.core.pipeline.read_models import CompanyResult, FailedItem, HistoryEntry, RunProgress, SkippedItem

RUNS = IngestionRun.__table__
ITEMS = IngestionRunItem.__table__
FAILED_ITEMS_LIMIT = 200
# While a run is active its progress is polled every few seconds: keep that answer small.
ACTIVE_FAILED_ITEMS_LIMIT = 20
FINISHED_STATUSES = ("completed", "failed")
# How a skipped item is shown: processed, not failed, nothing stored.
SKIPPED_REASON = "not a job posting"
SKIPPED_LABEL = f"skipped: {SKIPPED_REASON}"

_PROGRESS_COLUMNS = [
    RUNS.c.run_id,
    RUNS.c.user_id,
    RUNS.c.status,
    RUNS.c.current_stage,
    RUNS.c.total_jobs_found,
    RUNS.c.jobs_processed,
    RUNS.c.jobs_added,
    RUNS.c.jobs_failed,
    RUNS.c.jobs_skipped,
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


def company_results(companies: list[dict[str, Any]] | None) -> list[CompanyResult]:
    return [CompanyResult.from_stored(c) for c in companies or []]


def _items_in_state(session: Session, run_id: int, state: str, limit: int) -> Sequence[Any]:
    return session.execute(
        sa.select(ITEMS.c.url, ITEMS.c.company, ITEMS.c.error)
        .where(ITEMS.c.run_id == run_id, ITEMS.c.state == state)
        .order_by(ITEMS.c.id)
        .limit(limit)
    ).all()


def get_progress(session: Session, user_id: int, run_id: int) -> RunProgress:
    """Where the run is now. RunNotFound for an unknown run or another user's run.

    `failed_items` lists the first failures: up to 20 while the run is active, 200 once it ended;
    `skipped_items` the same for the pages that were not job postings (not failures).
    """
    run = session.execute(sa.select(*_PROGRESS_COLUMNS).where(RUNS.c.run_id == run_id)).first()
    if run is None or run.user_id != user_id:
        raise RunNotFound(run_id)
    limit = FAILED_ITEMS_LIMIT if run.status in FINISHED_STATUSES else ACTIVE_FAILED_ITEMS_LIMIT
    failed_items: list[FailedItem] = []
    if run.jobs_failed:
        failed_items = [
            FailedItem(url=r.url, company=r.company, error=r.error)
            for r in _items_in_state(session, run_id, "failed", limit)
        ]
    skipped_items: list[SkippedItem] = []
    if run.jobs_skipped:
        skipped_items = [
            SkippedItem(url=r.url, company=r.company, reason=SKIPPED_REASON, detail=r.error)
            for r in _items_in_state(session, run_id, "skipped", limit)
        ]
    started = run.started_at or run.created_at
    return RunProgress(
        run_id=run.run_id,
        status=run.status,
        current_stage=run.current_stage,
        total_jobs_found=run.total_jobs_found,
        jobs_processed=run.jobs_processed,
        jobs_added=run.jobs_added,
        jobs_failed=run.jobs_failed,
        jobs_skipped=run.jobs_skipped,
        jobs_archived=run.jobs_archived,
        percent=_percent(run.status, run.jobs_processed, run.total_jobs_found),
        elapsed_seconds=_seconds(started, run.completed_at or utcnow()) or 0.0,
        companies=company_results(run.companies),
        error_message=run.error_message,
        created_at=as_utc(run.created_at),
        started_at=as_utc(run.started_at),
        completed_at=as_utc(run.completed_at),
        retry_count=run.retry_count,
        failed_items=failed_items,
        skipped_items=skipped_items,
    )


def list_history(session: Session, user_id: int, limit: int = 10) -> list[HistoryEntry]:
    """The user's finished (completed or failed) runs, newest first."""
    limit = max(1, min(int(limit), 100))
    rows = session.execute(
        sa.select(*_PROGRESS_COLUMNS)
        .where(RUNS.c.user_id == user_id, RUNS.c.status.in_(FINISHED_STATUSES))
        .order_by(RUNS.c.created_at.desc(), RUNS.c.run_id.desc())
        .limit(limit)
    ).all()
    return [
        HistoryEntry(
            run_id=r.run_id,
            status=r.status,
            created_at=as_utc(r.created_at),
            started_at=as_utc(r.started_at),
            completed_at=as_utc(r.completed_at),
            duration_seconds=_seconds(r.started_at or r.created_at, r.completed_at),
            companies=[c.get("name") for c in r.companies or []],
            total_jobs_found=r.total_jobs_found,
            jobs_processed=r.jobs_processed,
            jobs_added=r.jobs_added,
            jobs_archived=r.jobs_archived,
            jobs_failed=r.jobs_failed,
            jobs_skipped=r.jobs_skipped,
            error_message=r.error_message,
        )
        for r in rows
    ]
