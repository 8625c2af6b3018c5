"""The embedded default: a whole small run on SQLite (what `make run` uses without PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import Session

from ingest_app.core.companies import add_company
from ingest_app.core.models import Job, utcnow
from ingest_app.core.pipeline import get_progress, list_history, process_item, reset_run, run_stage3, start_run
from tests.support.fleet import CollectingSend
from tests.support.greenhouse_site import FixtureSite


@pytest.fixture
def sqlite_engine(settings, tmp_path) -> Iterator:
    from ingest_app.core.db import dispose_engines, get_engine
    from ingest_app.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'ingest.db'}"
    settings(DATABASE_URL=url)
    upgrade(url)
    try:
        yield get_engine()
    finally:
        dispose_engines()


def test_a_whole_run_on_sqlite(sqlite_engine, fixture_site: FixtureSite):
    import sqlite3

    from ingest_app.accounts.users import create_user

    assert sqlite3.sqlite_version_info >= (3, 35)  # ON CONFLICT DO UPDATE + RETURNING
    assert sqlite_engine.dialect.name == "sqlite"
    fixture_site.boards["acme"] = [1, 2, 3, 4]
    fixture_site.page_status[4] = 404
    with Session(sqlite_engine, expire_on_commit=False) as session:
        user = create_user(session, email="lite@example.com", password="correct-horse-1")
        acme = add_company(session, user.id, name="Acme", source="greenhouse:acme")
        session.commit()
        old = utcnow()
        session.add_all(
            [
                Job(
                    user_id=user.id,
                    company_id=acme.id,
                    company="Acme",
                    source_url=fixture_site.job_url(1),
                    status="archived",
                    first_seen_at=old,
                    last_seen_at=old,
                    archived_at=old,
                ),
                Job(
                    user_id=user.id,
                    company_id=acme.id,
                    company="Acme",
                    source_url=fixture_site.job_url(9),
                    first_seen_at=old,
                    last_seen_at=old,
                ),
            ]
        )
        session.commit()
        run = start_run(session, user.id)
        sent = CollectingSend()

        run_stage3(run.run_id, send=sent)
        with ThreadPoolExecutor(max_workers=4) as pool:  # every message twice, concurrently
            outcomes = list(pool.map(process_item, sent.messages * 2))

        assert sorted(outcomes) == ["failed"] + ["skipped"] * 4 + ["succeeded"] * 3
        progress = get_progress(session, user.id, run.run_id)
        assert progress.status == "completed" and progress.percent == 100.0
        assert (progress.jobs_added, progress.jobs_failed, progress.jobs_archived) == (2, 1, 1)
        assert progress.failed_items[0].error.startswith("not_found")
        jobs = {j.source_url: j for j in session.query(Job).all()}
        assert jobs[fixture_site.job_url(1)].status == "active" and jobs[fixture_site.job_url(1)].archived_at is None
        assert jobs[fixture_site.job_url(9)].status == "archived"
        assert [h.run_id for h in list_history(session, user.id)] == [run.run_id]

        second = start_run(session, user.id)
        assert reset_run(session, user.id, second.run_id).error_message == "Reset by user"


def test_a_batch_of_messages_on_sqlite(sqlite_engine, fixture_site: FixtureSite):
    from ingest_app.accounts.users import create_user
    from ingest_app.core.pipeline import process_items

    fixture_site.boards["acme"] = [1, 2, 3]
    fixture_site.page_status[3] = 404
    with Session(sqlite_engine, expire_on_commit=False) as session:
        user = create_user(session, email="batch@example.com", password="correct-horse-1")
        add_company(session, user.id, name="Acme", source="greenhouse:acme")
        session.commit()
        run = start_run(session, user.id)
        sent = CollectingSend()
        run_stage3(run.run_id, send=sent)

        with ThreadPoolExecutor(max_workers=4) as pool:
            outcomes = [o for o, _ in process_items(sent.messages * 2, map_fn=pool.map)]

        assert sorted(outcomes) == ["failed"] + ["skipped"] * 3 + ["succeeded"] * 2
        progress = get_progress(session, user.id, run.run_id)
        assert progress.status == "completed"
        assert (progress.jobs_processed, progress.jobs_added, progress.jobs_failed) == (3, 2, 1)
