"""Runs, items and jobs in a known state, and reads of what the pipeline recorded for them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ingest_app.core.crawl.types import Posting
from ingest_app.core.models import IngestionRun, IngestionRunItem, Job, utcnow
from ingest_app.core.pipeline.messages import ItemMessage


def posting(url: str, title: str = "Engineer") -> Posting:
    return Posting(source_url=url, title=title, location="Remote", description="Build things.")


def seed_run(
    session,
    user_id: int,
    urls: list[str],
    *,
    status: str = "ingesting",
    company: str = "Acme",
    company_id: int | None = None,
    heartbeat_age: timedelta = timedelta(0),
) -> tuple[int, list[int]]:
    """An active run in stage 4 with one pending item per URL: what stage 3 leaves behind
    (`heartbeat_age` back-dates it, as if its workers had stopped that long ago; another `status`
    gives a run still in stage 3, without items)."""
    now = utcnow()
    run = IngestionRun(
        user_id=user_id,
        status=status,
        current_stage=4 if status == "ingesting" else 3,
        total_jobs_found=len(urls) if status == "ingesting" else 0,
        companies=[{"company_id": company_id, "name": company, "source": "greenhouse:acme"}],
        created_at=now - heartbeat_age,
        started_at=now - heartbeat_age,
        last_heartbeat=now - heartbeat_age,
    )
    session.add(run)
    session.flush()
    items = [IngestionRunItem(run_id=run.run_id, company_id=company_id, company=company, url=u) for u in urls]
    if status == "ingesting":
        session.add_all(items)
    session.commit()
    return run.run_id, [i.id for i in items] if status == "ingesting" else []


def add_archived_job(session, user_id: int, url: str, company: str = "Acme") -> datetime:
    """A job archived a month ago; returns when it was first seen."""
    first_seen = utcnow() - timedelta(days=30)
    session.add(
        Job(
            user_id=user_id,
            company=company,
            source_url=url,
            title="Old title",
            status="archived",
            first_seen_at=first_seen,
            last_seen_at=first_seen,
            archived_at=first_seen + timedelta(days=1),
        )
    )
    session.commit()
    return first_seen


def completed_run(session, user_id: int, jobs: list[tuple[str, str, str]]) -> int:
    """A run that ends completed with one new job per (slug, title, location), as the worker records it."""
    from ingest_app.core.pipeline import record_item_result

    urls = [f"https://jobs.example.com/acme/{slug}" for slug, _, _ in jobs]
    run_id, item_ids = seed_run(session, user_id, urls)
    for item_id, url, (_, title, location) in zip(item_ids, urls, jobs, strict=True):
        result = Posting(source_url=url, title=title, location=location, description="Build things.")
        assert record_item_result(run_id, item_id, posting=result, error=None)
    return run_id


def item_bodies(session, run_id: int) -> list[ItemMessage]:
    """The queue messages of a run's items, as stage 3 sends them."""
    items = session.exec(sa.select(IngestionRunItem).where(IngestionRunItem.run_id == run_id)).scalars().all()
    return [ItemMessage(run_id=run_id, item_id=i.id, url=i.url, company=i.company, hints=i.hints or {}) for i in items]


def run_row(engine: sa.Engine, run_id: int) -> Any:
    """The run's row as stored (columns as attributes)."""
    with engine.connect() as conn:
        return conn.execute(sa.select(IngestionRun.__table__).where(IngestionRun.__table__.c.run_id == run_id)).one()


def counters(engine: sa.Engine, run_id: int) -> dict[str, Any]:
    row = run_row(engine, run_id)._mapping
    keys = ("status", "total_jobs_found", "jobs_processed", "jobs_added", "jobs_failed", "jobs_archived")
    return {k: row[k] for k in keys}


def item_states(engine: sa.Engine, run_id: int) -> dict[str, tuple[str, str | None]]:
    """url -> (state, error) of each of the run's items."""
    table = IngestionRunItem.__table__
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.url, table.c.state, table.c.error).where(table.c.run_id == run_id))
        return {r.url: (r.state, r.error) for r in rows}


def item_counts(engine: sa.Engine, run_id: int) -> dict[str, int]:
    """state -> how many of the run's items are in it."""
    items = IngestionRunItem.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(items.c.state, sa.func.count()).where(items.c.run_id == run_id).group_by(items.c.state)
        ).all()
    return {state: count for state, count in rows}


def jobs_of(engine: sa.Engine, user_id: int) -> list[Any]:
    table = Job.__table__
    with engine.connect() as conn:
        return conn.execute(sa.select(table).where(table.c.user_id == user_id).order_by(table.c.source_url)).all()


def job_counts(engine: sa.Engine, user_id: int) -> dict[str, int]:
    """status -> how many of the user's jobs have it."""
    jobs = Job.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(jobs.c.status, sa.func.count()).where(jobs.c.user_id == user_id).group_by(jobs.c.status)
        ).all()
    return {status: count for status, count in rows}
