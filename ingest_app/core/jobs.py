"""Writing jobs: the upsert a worker does for one crawled posting, and stage-3 archiving.

Both work on a SQLAlchemy Connection inside the caller's transaction, on PostgreSQL and SQLite.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ingest_app.core import changes
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
    "salary_period": 10,
    "apply_url": 2048,
    "external_id": 200,
}
POSTING_FIELDS = (
    "title",
    "location",
    "department",
    "employment_type",
    "workplace_type",
    "salary_min",
    "salary_max",
    "salary_currency",
    "salary_period",
    "description",
    "posted_at",
    "source_updated_at",
    "apply_url",
    "external_id",
)


def _clip(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = value.replace("\x00", "")  # PostgreSQL text cannot hold NUL
    limit = _LIMITS.get(name)
    return value[:limit] if limit is not None else value


def posting_values(posting: Posting) -> dict[str, Any]:
    return {name: _clip(name, getattr(posting, name, None)) for name in POSTING_FIELDS}


# Refreshed on every sighting; first_seen_at and user_id/source_url never change.
_REFRESHED = (*POSTING_FIELDS, "company_id", "company", "last_seen_at", "last_run_id")
_upserts: dict[str, sa.Insert] = {}
# In an upsert's SET, columns name the existing row: an archived job listed again is a reopening.
_REOPEN_COUNT = JOBS.c.times_reopened + sa.case((JOBS.c.status == "archived", 1), else_=0)


def _upsert_statement(dialect: str) -> sa.Insert:
    """Built once per dialect; executed with a parameter dict (cheap: no per-call construction)."""
    stmt = _upserts.get(dialect)
    if stmt is None:
        insert = postgresql.insert(JOBS) if dialect == "postgresql" else sqlite.insert(JOBS)
        refreshed: dict[str, Any] = {name: insert.excluded[name] for name in _REFRESHED}
        refreshed.update(status="active", archived_at=None, times_reopened=_REOPEN_COUNT)
        stmt = insert.on_conflict_do_update(index_elements=[JOBS.c.user_id, JOBS.c.source_url], set_=refreshed)
        if dialect == "postgresql":
            # xmax is 0 only for a freshly inserted row version: inserted vs updated in one statement.
            stmt = stmt.returning(sa.literal_column("(xmax = 0)").label("inserted"), JOBS.c.id)
        _upserts[dialect] = stmt
    return stmt


_JOB_EXISTS = sa.select(JOBS.c.id).where(
    JOBS.c.user_id == sa.bindparam("p_user_id"), JOBS.c.source_url == sa.bindparam("p_source_url")
)


def job_row(
    *,
    user_id: int,
    company_id: int | None,
    company: str,
    source_url: str,
    posting: Posting,
    run_id: int,
    now: datetime,
) -> dict[str, Any]:
    """The column values of the user's job for one crawled posting."""
    return {
        **posting_values(posting),
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


def _array_type(column: sa.Column) -> str:
    """The PostgreSQL array element type a column's values are sent as (lengths are checked on insert)."""
    kind = column.type
    if isinstance(kind, sa.Integer):
        return "integer"
    if isinstance(kind, sa.Float):
        return "double precision"
    if isinstance(kind, sa.DateTime):
        return "timestamptz" if kind.timezone else "timestamp"
    if isinstance(kind, sa.Date):
        return "date"
    return "text"


_MANY_COLUMNS = ("user_id", "company_id", "company", "source_url", *POSTING_FIELDS, "status")
_MANY_COLUMNS += ("first_seen_at", "last_seen_at", "archived_at", "last_run_id")
# All rows in one statement, one array parameter per column: a fixed text, prepared once.
_MANY_UPSERT = sa.text(
    f"INSERT INTO {JOBS.name} ({', '.join(_MANY_COLUMNS)}) "
    "SELECT * FROM unnest("
    + ", ".join(f"CAST(:p_{name} AS {_array_type(JOBS.c[name])}[])" for name in _MANY_COLUMNS)
    + ") ON CONFLICT (user_id, source_url) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _REFRESHED)
    + ", status = 'active', archived_at = NULL"
    f", times_reopened = {JOBS.name}.times_reopened + CASE WHEN {JOBS.name}.status = 'archived' THEN 1 ELSE 0 END"
    " RETURNING source_url, id, (xmax = 0) AS inserted"
)


def upsert_jobs_postgresql(conn: sa.Connection, rows: list[dict[str, Any]]) -> dict[str, bool]:
    """Upsert several jobs of one user in ONE statement (PostgreSQL); source_url -> inserted.

    Same effect as upsert_job for each row, including the run's change records (core/changes.py).
    The rows must have distinct source URLs (one statement cannot touch a row twice); they are
    written in source URL order, so concurrent writers take the row locks in the same order.
    """
    if not rows:
        return {}
    rows = sorted(rows, key=lambda r: r["source_url"])
    user_id, run_id, now = rows[0]["user_id"], rows[0]["last_run_id"], rows[0]["last_seen_at"]
    before = changes.snapshot_before(
        conn,
        user_id=user_id,
        urls=[row["source_url"] for row in rows],
        companies=[row["company"] for row in rows],
        now=now,
    )
    params = {f"p_{name}": [row[name] for row in rows] for name in _MANY_COLUMNS}
    written = conn.execute(_MANY_UPSERT, params).all()
    changes.record_upserts(
        conn,
        user_id=user_id,
        run_id=run_id,
        rows=rows,
        before=before,
        job_ids={row.source_url: row.id for row in written},
        now=now,
    )
    return {row.source_url: bool(row.inserted) for row in written}


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
    (`status='active'`, `archived_at` cleared); it does not count as added. What changed is
    recorded for the run in the same transaction (core/changes.py).
    """
    row = job_row(
        user_id=user_id,
        company_id=company_id,
        company=company,
        source_url=source_url,
        posting=posting,
        run_id=run_id,
        now=now,
    )
    dialect = conn.dialect.name
    # SQLite: the caller's transaction already holds the write lock (it updated the item first),
    # so nothing can slip in between this look-up and the upsert. PostgreSQL locks the row.
    before = changes.snapshot_before(conn, user_id=user_id, urls=[source_url], companies=[row["company"]], now=now)
    if dialect == "postgresql":
        written = conn.execute(_upsert_statement(dialect), row).one()
        inserted, job_id = bool(written.inserted), written.id
    else:
        conn.execute(_upsert_statement(dialect), row)
        inserted = source_url not in before.jobs
        job_id = conn.execute(_JOB_EXISTS, {"p_user_id": user_id, "p_source_url": source_url}).scalar_one()
    changes.record_upserts(
        conn, user_id=user_id, run_id=run_id, rows=[row], before=before, job_ids={source_url: job_id}, now=now
    )
    return inserted


def count_active_jobs(conn: sa.Connection, *, user_id: int, company_id: int) -> int:
    return conn.execute(
        sa.select(sa.func.count())
        .select_from(JOBS)
        .where(JOBS.c.user_id == user_id, JOBS.c.company_id == company_id, JOBS.c.status == "active")
    ).scalar_one()


def active_jobs_by_company(conn: sa.Connection, *, user_id: int, company_ids: Collection[int]) -> dict[int, list[Any]]:
    """The user's active jobs (`id`, `source_url`) of these companies, by company, in one query
    (stage 3 archives hundreds of companies in one transaction)."""
    out: dict[int, list[Any]] = {company_id: [] for company_id in company_ids}
    ids = sorted(out)
    for start in range(0, len(ids), 5000):
        rows = conn.execute(
            sa.select(JOBS.c.id, JOBS.c.source_url, JOBS.c.company_id).where(
                JOBS.c.user_id == user_id, JOBS.c.company_id.in_(ids[start : start + 5000]), JOBS.c.status == "active"
            )
        )
        for row in rows:
            out[row.company_id].append(row)
    return out


def archive_unlisted_jobs(
    conn: sa.Connection,
    *,
    user_id: int,
    company_id: int,
    listed_urls: Collection[str],
    now: datetime,
    run_id: int | None = None,
    active: Sequence[Any] | None = None,
) -> int:
    """Archive this user's active jobs of one company whose source URL is not listed; the count.
    With `run_id`, each archived job is recorded as `closed` by that run. `active`: that
    company's active jobs (`id`, `source_url`) as `active_jobs_by_company` read them in this
    transaction, else they are read here.

    The difference is taken in Python so a board of any size stays within bind-parameter limits.
    """
    listed = set(listed_urls)
    if active is None:
        active = conn.execute(
            sa.select(JOBS.c.id, JOBS.c.source_url).where(
                JOBS.c.user_id == user_id, JOBS.c.company_id == company_id, JOBS.c.status == "active"
            )
        ).all()
    gone = [row.id for row in active if row.source_url not in listed]
    archived = 0
    for start in range(0, len(gone), 500):
        closed = conn.execute(
            sa.update(JOBS)
            .where(JOBS.c.id.in_(gone[start : start + 500]), JOBS.c.status == "active")
            .values(status="archived", archived_at=now)
            .returning(JOBS.c.id, JOBS.c.company, JOBS.c.title, JOBS.c.location, JOBS.c.source_url)
        ).all()
        archived += len(closed)
        if run_id is not None:
            changes.record_closed(conn, user_id=user_id, run_id=run_id, closed_rows=closed, now=now)
    return archived
