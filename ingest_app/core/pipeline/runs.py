"""Starting, finding and resetting runs."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ingest_app.core.models import ACTIVE_RUN_STATUSES, Company, IngestionRun, utcnow
from ingest_app.core.pipeline.errors import NoCompanies, RunAlreadyActive, RunNotActive, RunNotFound

RUNS = IngestionRun.__table__
RESET_MESSAGE = "Reset by user"


def company_snapshot(company: Company) -> dict[str, Any]:
    """What a run remembers of a company config (the run's results are added to it later)."""
    return {
        "company_id": company.id,
        "name": company.name,
        "source": company.source,
        "source_kind": company.source_kind,
        "source_value": company.source_value,
    }


def _choose_companies(session: Session, user_id: int, company_ids: list[int] | None) -> list[Company]:
    query = select(Company).where(Company.user_id == user_id, Company.enabled.is_(True))
    if company_ids is not None:
        wanted = set(company_ids)
        if not wanted:
            raise NoCompanies("Choose at least one company")
        owned = set(session.exec(select(Company.id).where(Company.user_id == user_id, Company.id.in_(wanted))).all())
        if owned != wanted:
            missing = ", ".join(str(i) for i in sorted(wanted - owned))
            raise NoCompanies(f"Unknown company id(s): {missing}")
        query = query.where(Company.id.in_(wanted))
    companies = list(session.exec(query.order_by(Company.name, Company.id)).all())
    if not companies:
        raise NoCompanies()
    return companies


def start_run(session: Session, user_id: int, company_ids: list[int] | None = None) -> IngestionRun:
    """Commit a new run in stage 3 (`archiving`) for the user's enabled companies (or `company_ids`).

    The caller then enqueues stage 3 (`begin_stage3`: the workers list) or runs it inline
    (`run_stage3`). The database allows one active run per user; a second start raises
    RunAlreadyActive.
    """
    active = get_active_run(session, user_id)
    if active is not None:
        raise RunAlreadyActive(active.run_id)
    companies = _choose_companies(session, user_id, company_ids)
    now = utcnow()
    run = IngestionRun(
        user_id=user_id,
        status="archiving",
        current_stage=3,
        companies=[company_snapshot(c) for c in companies],
        created_at=now,
        started_at=now,
        last_heartbeat=now,
    )
    session.add(run)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        if "uq_ingestion_runs_one_active_per_user" in str(exc.orig) or "ingestion_runs.user_id" in str(exc.orig):
            active = get_active_run(session, user_id)
            raise RunAlreadyActive(active.run_id if active else None) from exc
        raise
    session.refresh(run)
    return run


def get_active_run(session: Session, user_id: int) -> IngestionRun | None:
    return session.exec(
        select(IngestionRun).where(IngestionRun.user_id == user_id, IngestionRun.status.in_(ACTIVE_RUN_STATUSES))
    ).first()


def get_user_run(session: Session, user_id: int, run_id: int) -> IngestionRun:
    run = session.get(IngestionRun, run_id, populate_existing=True)
    if run is None or run.user_id != user_id:
        raise RunNotFound(run_id)
    return run


def reset_run(session: Session, user_id: int, run_id: int) -> IngestionRun:
    """Abort the user's active run: `failed`, 'Reset by user'. Workers then skip its messages.

    One guarded UPDATE: it waits for the run row lock, so an item being recorded right now either
    commits before the reset (and is counted) or sees the run failed and changes nothing.
    """
    now = utcnow()
    changed = session.execute(
        sa.update(RUNS)
        .where(RUNS.c.run_id == run_id, RUNS.c.user_id == user_id, RUNS.c.status.in_(ACTIVE_RUN_STATUSES))
        .values(status="failed", current_stage=5, completed_at=now, error_message=RESET_MESSAGE)
    ).rowcount
    session.commit()
    run = get_user_run(session, user_id, run_id)
    if not changed:
        raise RunNotActive(run_id, run.status)
    return run


def fail_run(
    conn: sa.Connection, run_id: int, message: str, *, statuses: tuple[str, ...] = ACTIVE_RUN_STATUSES
) -> bool:
    """Mark an active run failed with a reason (no-op when it already finished)."""
    result = conn.execute(
        sa.update(RUNS)
        .where(RUNS.c.run_id == run_id, RUNS.c.status.in_(statuses))
        .values(status="failed", current_stage=5, completed_at=utcnow(), error_message=message[:4000])
    )
    return result.rowcount == 1
