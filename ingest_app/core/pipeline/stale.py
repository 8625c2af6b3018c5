"""The stale-run detector: complete, retry or fail active runs whose heartbeat stopped.

A run in `archiving` or `ingesting` whose `last_heartbeat` is older than
`settings.stale_after_minutes`:

- every item already terminal -> complete it;
- else, while `retry_count < settings.stale_max_retries` -> one guarded UPDATE increments
  `retry_count` and refreshes the heartbeat (two detectors at once: only one matches), then the
  winner re-enqueues the still-pending items (a run stuck in `archiving` gets the listing
  messages of its companies not listed yet, or, when all are, ends stage 3 here);
- else -> `failed`, with an `error_message` naming how many items never finished.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ingest_app.core.db import get_engine, worker_transaction
from ingest_app.core.models import ACTIVE_RUN_STATUSES, IngestionRun, IngestionRunItem, as_utc, utcnow
from ingest_app.core.pipeline.enqueue import SendFn, enqueue_items, pending_item_messages
from ingest_app.core.pipeline.runs import fail_run
from ingest_app.core.pipeline.stage3 import begin_stage3, finish_stage3
from ingest_app.core.settings import get_settings

log = logging.getLogger(__name__)

RUNS = IngestionRun.__table__
ITEMS = IngestionRunItem.__table__


def _is_stale(cutoff: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(
        RUNS.c.last_heartbeat < cutoff,
        sa.and_(RUNS.c.last_heartbeat.is_(None), RUNS.c.created_at < cutoff),
    )


def _pending_count(conn: sa.Connection, run_id: int) -> int:
    return conn.execute(
        sa.select(sa.func.count()).select_from(ITEMS).where(ITEMS.c.run_id == run_id, ITEMS.c.state == "pending")
    ).scalar_one()


def _complete_finished(conn: sa.Connection, run_id: int, cutoff: datetime, now: datetime) -> bool:
    """Complete an ingesting run none of whose items is pending (its last completion was lost)."""
    result = conn.execute(
        sa.update(RUNS)
        .where(
            RUNS.c.run_id == run_id,
            RUNS.c.status == "ingesting",
            _is_stale(cutoff),
            ~sa.exists().where(ITEMS.c.run_id == run_id, ITEMS.c.state == "pending"),
        )
        .values(status="completed", current_stage=5, completed_at=now, last_heartbeat=now)
    )
    return result.rowcount == 1


def _update_if_unchanged(conn: sa.Connection, run: Any, cutoff: datetime, **values: Any) -> bool:
    """Apply `values` only if the run is still as this detector saw it (and still stale): of two
    detectors looking at the same run, exactly one acts."""
    result = conn.execute(
        sa.update(RUNS)
        .where(
            RUNS.c.run_id == run.run_id,
            RUNS.c.status == run.status,
            RUNS.c.retry_count == run.retry_count,
            _is_stale(cutoff),
        )
        .values(**values)
    )
    return result.rowcount == 1


def _db_now(conn: sa.Connection) -> Any:
    """The database's clock at this statement (PostgreSQL), not the cycle's start: a heartbeat
    stamped with a cycle's start time would already look stale after a slow cycle."""
    return sa.func.now() if conn.dialect.name == "postgresql" else utcnow()


def _claim_retry(conn: sa.Connection, run: Any, cutoff: datetime) -> bool:
    return _update_if_unchanged(conn, run, cutoff, retry_count=RUNS.c.retry_count + 1, last_heartbeat=_db_now(conn))


def _after_resend(run_id: int, attempt: int) -> Any:
    """Once the retry's messages are sent: its heartbeat is the end of the sending (a long send
    must not make the run look stale at once); the run's status and reason as they are now."""
    with get_engine().begin() as conn:
        worker_transaction(conn)
        conn.execute(
            sa.update(RUNS)
            .where(RUNS.c.run_id == run_id, RUNS.c.status == "ingesting", RUNS.c.retry_count == attempt)
            .values(last_heartbeat=_db_now(conn))
        )
        return conn.execute(sa.select(RUNS.c.status, RUNS.c.error_message).where(RUNS.c.run_id == run_id)).one()


def _status(run_id: int) -> Any:
    with get_engine().connect() as conn:
        return conn.execute(sa.select(RUNS.c.status, RUNS.c.error_message).where(RUNS.c.run_id == run_id)).one()


def _failure_message(run: Any, pending: int, minutes: float) -> str:
    retries = f"{run.retry_count} retr{'y' if run.retry_count == 1 else 'ies'}"
    if run.status == "archiving":
        return f"Stale run: stage 3 (listing and archiving) made no progress for {minutes:g} minutes after {retries}"
    return (
        f"Stale run: {pending} of {run.total_jobs_found} items never finished "
        f"(no progress for {minutes:g} minutes after {retries})"
    )


def _fail_stale(conn: sa.Connection, run: Any, message: str, cutoff: datetime, now: datetime) -> bool:
    return _update_if_unchanged(
        conn, run, cutoff, status="failed", current_stage=5, completed_at=now, error_message=message
    )


def _handle(run: Any, cutoff: datetime, now: datetime, send: SendFn | None) -> dict[str, Any] | None:
    settings = get_settings()
    report: dict[str, Any] = {"run_id": run.run_id, "user_id": run.user_id, "status_before": run.status}
    if run.status == "ingesting":
        with get_engine().begin() as conn:
            worker_transaction(conn)
            pending = _pending_count(conn, run.run_id)
            if pending == 0:
                if not _complete_finished(conn, run.run_id, cutoff, now):
                    return None
                return {**report, "action": "completed", "resent": 0, "reason": "every item had finished"}
    else:
        pending = None
    if run.retry_count < settings.stale_max_retries:
        with get_engine().begin() as conn:
            worker_transaction(conn)
            if not _claim_retry(conn, run, cutoff):
                return None  # another detector (or a worker's heartbeat) got there first
        attempt = run.retry_count + 1
        if run.status == "archiving":
            try:
                resent = begin_stage3(run.run_id, send=send)
                if resent == 0:  # every listing recorded: the worker that should end stage 3 died
                    finish_stage3(run.run_id, send=send)
            except Exception as exc:
                with get_engine().begin() as conn:
                    fail_run(conn, run.run_id, f"Stage 3 failed: {type(exc).__name__}: {exc}")
                return {**report, "action": "failed", "retry_count": attempt, "reason": str(exc)}
            after = _status(run.run_id)
            if after.status == "failed":  # the queue refused the listing messages
                return {**report, "action": "failed", "retry_count": attempt, "reason": after.error_message}
            return {**report, "action": "restarted_stage3", "retry_count": attempt, "resent": resent}
        with get_engine().connect() as conn:
            messages = pending_item_messages(conn, run.run_id)
        sent = enqueue_items(run.run_id, messages, send)
        after = _after_resend(run.run_id, attempt)
        if after.status == "failed":  # the queue refused the messages: enqueue failed the run
            return {**report, "action": "failed", "retry_count": attempt, "resent": sent, "reason": after.error_message}
        return {**report, "action": "retried", "retry_count": attempt, "resent": sent}
    message = _failure_message(run, pending or 0, settings.stale_after_minutes)
    with get_engine().begin() as conn:
        worker_transaction(conn)
        if not _fail_stale(conn, run, message, cutoff, now):
            return None
    return {**report, "action": "failed", "retry_count": run.retry_count, "reason": message}


def detect_stale_runs(now: datetime | None = None, *, send: SendFn | None = None) -> list[dict[str, Any]]:
    """Check every active run once; one report per run acted on (`action`: completed, retried,
    restarted_stage3 or failed)."""
    now = as_utc(now) or utcnow()
    cutoff = now - timedelta(minutes=get_settings().stale_after_minutes)
    with get_engine().connect() as conn:
        runs = conn.execute(
            sa.select(RUNS.c.run_id, RUNS.c.user_id, RUNS.c.status, RUNS.c.retry_count, RUNS.c.total_jobs_found)
            .where(RUNS.c.status.in_(ACTIVE_RUN_STATUSES), _is_stale(cutoff))
            .order_by(RUNS.c.run_id)
        ).all()
    reports = []
    for run in runs:
        try:
            report = _handle(run, cutoff, now, send)
        except Exception:
            log.exception("stale check of run %s failed", run.run_id)
            continue
        if report is not None:
            log.info("stale run %s: %s", run.run_id, report["action"])
            reports.append(report)
    return reports
