"""The embedded default (SQLite, what `make run` uses without PostgreSQL): change records, a
scheduled run, a digest to a local webhook and the feed, end to end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import feedparser
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from ingest_app.core import changes, feeds, schedules
from ingest_app.core.companies import add_company
from ingest_app.core.models import IngestionRun, Job, utcnow
from ingest_app.core.notify import channels as notify
from ingest_app.core.notify.dispatch import dispatch_due
from ingest_app.core.pipeline import process_item, run_stage3
from tests.support.fleet import CollectingSend


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


def test_tracking_on_sqlite(sqlite_engine, fixture_site, webhook):
    from ingest_app.accounts.users import create_user

    webhook.start()
    fixture_site.boards["acme"] = [1, 2, 3]
    with Session(sqlite_engine, expire_on_commit=False) as session:
        user = create_user(session, email="lite@example.com", password="correct-horse-1")
        acme = add_company(session, user.id, name="Acme", source="greenhouse:acme")
        old = utcnow() - timedelta(days=3)
        session.add(
            Job(
                user_id=user.id,
                company_id=acme.id,
                company="Acme",
                source_url=fixture_site.job_url(1),
                title="Engineer 1",
                location="Berlin",
                status="archived",
                first_seen_at=old,
                last_seen_at=old,
                archived_at=old,
            )
        )
        session.commit()
        notify.put_rule(session, user.id)
        notify.add_channel(session, user.id, name="Hook", kind="webhook", url=webhook.url, secret=webhook.secret)
        start = utcnow()
        schedules.put_schedule(session, user.id, cron="*/5 * * * *", now=start - timedelta(minutes=10))

        sent = CollectingSend()
        [started] = schedules.tick(start, launch=lambda run_id: run_stage3(run_id, send=sent))
        assert started.outcome == "started"
        for message in sent.messages:  # the one-by-one worker path (SQLite)
            process_item(message)
        run = session.get(IngestionRun, started.run_id, populate_existing=True)
        assert run.status == "completed"
        assert changes.summaries(session, [run.run_id])[run.run_id].text == "+2 new · 1 reopened"

        report = dispatch_due(utcnow() + timedelta(seconds=1))
        assert report.sent == 1 and webhook.received[0]["verified"]
        assert webhook.received[0]["payload"]["summary"] == "+2 new"  # reopened not asked for
        assert dispatch_due(utcnow() + timedelta(seconds=2)).sent == 0

        parsed = feedparser.parse(feeds.render_feed(session, feeds.create_feed(session, user.id)))
        assert parsed.bozo == 0 and len(parsed.entries) == 2
        with sqlite_engine.connect() as conn:
            reopened = conn.execute(sa.select(Job.__table__.c.times_reopened).where(Job.__table__.c.status == "active"))
            assert sorted(reopened.scalars()) == [0, 0, 1]
        assert schedules.get_schedule(session, user.id).next_run_at > datetime.now(timezone.utc)
