"""Writing jobs: the upsert a worker does for one crawled posting, and stage-3 archiving.

Both work on a SQLAlchemy Connection inside the caller's transaction, on PostgreSQL and SQLite.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ingest_app.core.crawl.types import Posting
from ingest_app.core.models import Job

JOBS = Job.__table__

# Column -> max length, so a long title never turns into a database error (and a redelivery loop).
_LIMITS = {
    "title": 500,
    "location": 1000,
    "department": 300,
    "employment_type": 20,
    "workplace_type": 20,
    "salary_currency": 10,
    "apply_url": 2048,
    "external_id": 200,
}
_POSTING_FIELDS = (
    "title",
    "location",
    "department",
    "employment_type",
    "workplace_type",
    "salary_min",
    "salary_max",
    "salary_currency",
    "description",
    "posted_at",
    "apply_url",
    "external_id",
)


def _clip(name: str, value: Any) -> Any:
    limit = _LIMITS.get(name)
    if limit is not None and isinstance(value, str) and len(value) > limit:
        return value[:limit]
    return value


def posting_values(posting: Posting) -> dict[str, Any]:
    return {name: _clip(name, getattr(posting, name, None)) for name in _POSTING_FIELDS}


def upsert_job(
    conn: sa.Connection,
    *,
    user_id: int,
    company_id: int | None,
    company: str,
    source_url: str,
    posting: Posting,
    run_id: int,
    now: datetime,
) -> bool:
    """Insert or refresh the user's job for `source_url`; True when a new row was inserted.

    An existing job (active or archived) is updated in place and reactivated
    (`status='active'`, `archived_at` cleared); it does not count as added.
    """
    values = posting_values(posting)
    row = {
        **values,
        "user_id": user_id,
        "company_id": company_id,
        "company": company[:200],
        "source_url": source_url,
        "status": "active",
        "first_seen_at": now,
        "last_seen_at": now,
        "archived_at": None,
        "last_run_id": run_id,
    }
    refreshed = {
        **values,
        "company_id": company_id,
        "company": company[:200],
        "status": "active",
        "last_seen_at": now,
        "archived_at": None,
        "last_run_id": run_id,
    }
    if conn.dialect.name == "postgresql":
        stmt = postgresql.insert(JOBS).values(row)
        stmt = stmt.on_conflict_do_update(
            index_elements=[JOBS.c.user_id, JOBS.c.source_url], set_=refreshed
        ).returning(sa.literal_column("(xmax = 0)").label("inserted"))
        return bool(conn.execute(stmt).scalar_one())
    # SQLite: the caller's transaction already holds the write lock (it updated the item first),
    # so nothing can slip in between this look-up and the upsert.
    existed = conn.execute(
        sa.select(JOBS.c.id).where(JOBS.c.user_id == user_id, JOBS.c.source_url == source_url)
    ).first()
    stmt = sqlite.insert(JOBS).values(row)
    stmt = stmt.on_conflict_do_update(index_elements=[JOBS.c.user_id, JOBS.c.source_url], set_=refreshed)
    conn.execute(stmt)
    return existed is None


def count_active_jobs(conn: sa.Connection, *, user_id: int, company_id: int) -> int:
    return conn.execute(
        sa.select(sa.func.count())
        .select_from(JOBS)
        .where(JOBS.c.user_id == user_id, JOBS.c.company_id == company_id, JOBS.c.status == "active")
    ).scalar_one()


def archive_unlisted_jobs(
    conn: sa.Connection, *, user_id: int, company_id: int, listed_urls: Collection[str], now: datetime
) -> int:
    """Archive this user's active jobs of one company whose source URL is not listed; the count."""
    stmt = (
        sa.update(JOBS)
        .where(JOBS.c.user_id == user_id, JOBS.c.company_id == company_id, JOBS.c.status == "active")
        .values(status="archived", archived_at=now)
    )
    if listed_urls:
        stmt = stmt.where(JOBS.c.source_url.not_in(list(listed_urls)))
    return conn.execute(stmt).rowcount
