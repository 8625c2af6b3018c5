"""Runs in a known state for worker tests, and reads of their counters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from ingest_app.core.models import IngestionRun, IngestionRunItem, Job, utcnow
from ingest_app.core.pipeline.messages import ItemMessage


def seed_ingesting_run(
    session, user_id: int, urls: list[str], *, company: str = "Acme", heartbeat_age: timedelta = timedelta(0)
) -> tuple[int, list[int]]:
    """A run in stage 4 with one pending item per URL: what stage 3 leaves behind
    (`heartbeat_age` back-dates it, as if its workers had stopped that long ago)."""
    now = utcnow() - heartbeat_age
    run = IngestionRun(
        user_id=user_id,
        status="ingesting",
        current_stage=4,
        total_jobs_found=len(urls),
        companies=[{"company_id": None, "name": company, "source": "careers:http://127.0.0.1/"}],
        created_at=now,
        started_at=now,
        last_heartbeat=now,
    )
    session.add(run)
    session.flush()
    items = [IngestionRunItem(run_id=run.run_id, company=company, url=url) for url in urls]
    session.add_all(items)
    session.commit()
    return run.run_id, [item.id for item in items]


def item_bodies(session, run_id: int) -> list[ItemMessage]:
    items = session.exec(sa.select(IngestionRunItem).where(IngestionRunItem.run_id == run_id)).scalars().all()
    return [ItemMessage(run_id=run_id, item_id=i.id, url=i.url, company=i.company, hints=i.hints or {}) for i in items]


def run_row(engine: sa.Engine, run_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(sa.select(IngestionRun.__table__).where(IngestionRun.__table__.c.run_id == run_id)).one()
    return dict(row._mapping)


def counters(engine: sa.Engine, run_id: int) -> dict[str, Any]:
    row = run_row(engine, run_id)
    keys = ("status", "total_jobs_found", "jobs_processed", "jobs_added", "jobs_failed", "jobs_archived")
    return {k: row[k] for k in keys}


def item_states(engine: sa.Engine, run_id: int) -> dict[str, int]:
    items = IngestionRunItem.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(items.c.state, sa.func.count()).where(items.c.run_id == run_id).group_by(items.c.state)
        ).all()
    return {state: count for state, count in rows}


def job_counts(engine: sa.Engine, user_id: int) -> dict[str, int]:
    jobs = Job.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(jobs.c.status, sa.func.count()).where(jobs.c.user_id == user_id).group_by(jobs.c.status)
        ).all()
    return {status: count for status, count in rows}
