"""The posting fields added for salaries and source dates reach the jobs table, on PostgreSQL
(single and many-row upserts) and on SQLite."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import sqlalchemy as sa
from sqlmodel import Session

from ingest_app.core.crawl.types import Posting
from ingest_app.core.jobs import JOBS, job_row, upsert_job, upsert_jobs_postgresql
from ingest_app.core.models import IngestionRun

UPDATED = datetime(2026, 7, 14, 16, 45, tzinfo=UTC)


def _posting(url: str) -> Posting:
    return Posting(
        source_url=url,
        title="Picker",
        salary_min=19,
        salary_max=23,
        salary_currency="USD",
        salary_period="hour",
        posted_at=None,
        source_updated_at=UPDATED,
    )


def _run(session, user) -> int:
    run = IngestionRun(user_id=user.id, status="ingesting")
    session.add(run)
    session.commit()
    return run.run_id


def _stored(conn, url: str):
    return conn.execute(
        sa.select(JOBS.c.salary_min, JOBS.c.salary_period, JOBS.c.posted_at, JOBS.c.source_updated_at).where(
            JOBS.c.source_url == url
        )
    ).one()


def test_upserts_store_salary_period_and_source_updated_at(engine, session, make_user) -> None:
    user = make_user()
    run_id = _run(session, user)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        upsert_job(
            conn, user_id=user.id, company_id=None, company="W", source_url="https://w.example/1",
            posting=_posting("https://w.example/1"), run_id=run_id, now=now,
        )  # fmt: skip
        rows = [
            job_row(user_id=user.id, company_id=None, company="W", source_url=url, posting=_posting(url),
                    run_id=run_id, now=now)
            for url in ("https://w.example/2", "https://w.example/3")
        ]  # fmt: skip
        upsert_jobs_postgresql(conn, rows)
    with engine.connect() as conn:
        for url in ("https://w.example/1", "https://w.example/2"):
            stored = _stored(conn, url)
            assert stored.salary_min == 19 and stored.salary_period == "hour"
            assert stored.posted_at is None and stored.source_updated_at == UPDATED
    # a later sighting refreshes both fields
    changed = _posting("https://w.example/1")
    changed.salary_period, changed.posted_at, changed.source_updated_at = "year", date(2026, 7, 1), None
    with engine.begin() as conn:
        upsert_job(
            conn, user_id=user.id, company_id=None, company="W", source_url="https://w.example/1",
            posting=changed, run_id=run_id, now=now,
        )  # fmt: skip
    with engine.connect() as conn:
        stored = _stored(conn, "https://w.example/1")
        assert (stored.salary_period, stored.posted_at, stored.source_updated_at) == ("year", date(2026, 7, 1), None)


def test_sqlite_upsert_stores_the_new_fields(tmp_path) -> None:
    from ingest_app.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    upgrade(url)
    sqlite = sa.create_engine(url)
    try:
        with sqlite.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO users (id, email, password_hash, created_at) VALUES (1, 'a@x', 'h', '2026-01-01')")
            )
        with Session(sqlite) as session:  # the run the write is recorded for (its changes)
            run_id = _run(session, SimpleNamespace(id=1))
        with sqlite.begin() as conn:
            upsert_job(
                conn, user_id=1, company_id=None, company="W", source_url="https://w.example/1",
                posting=_posting("https://w.example/1"), run_id=run_id, now=datetime.now(UTC),
            )  # fmt: skip
        with sqlite.connect() as conn:
            stored = _stored(conn, "https://w.example/1")
        assert stored.salary_period == "hour"
        assert stored.source_updated_at.replace(tzinfo=UTC) == UPDATED
    finally:
        sqlite.dispose()
