"""What changed per run, on PostgreSQL through the real stage 3 and worker recording against the
local Greenhouse-shaped fixture site: new, closed, changed (before/after), reposted, reopened;
recorded once under duplicate delivery; read back per run with summaries and filters."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from ingest_app.core import changes
from ingest_app.core.companies import add_company
from ingest_app.core.models import Job, RunChange, utcnow
from ingest_app.core.pipeline import ItemMessage, list_history, process_items, run_stage3, start_run
from tests.support.fleet import CollectingSend
from tests.support.runs import add_archived_job, jobs_of, posting, run_row, seed_run

JOBS = Job.__table__
CHANGES = RunChange.__table__


def _run(session, user_id: int, site, ids: list[int]) -> int:
    """One whole run: the board lists `ids`, stage 3 archives and enqueues, the worker records."""
    site.boards["acme"] = ids
    run = start_run(session, user_id)
    sent = CollectingSend()
    run_stage3(run.run_id, send=sent)
    process_items(sent.messages)
    return run.run_id


def _kinds(engine, run_id: int) -> dict[str, set[str]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(CHANGES.c.kind, CHANGES.c.source_url).where(CHANGES.c.run_id == run_id)).all()
    out: dict[str, set[str]] = {}
    for kind, url in rows:
        out.setdefault(kind, set()).add(url.rsplit("/", 1)[-1])
    return out


def _set_title(engine, url: str, title: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(JOBS).where(JOBS.c.source_url == url).values(title=title))


def test_runs_record_new_closed_changed_reposted_and_reopened_jobs(engine, session, make_user, fixture_site):
    user = make_user()
    add_company(session, user.id, name="Acme", source="greenhouse:acme")
    session.commit()
    url = fixture_site.job_url

    first = _run(session, user.id, fixture_site, [1, 2, 3])
    assert _kinds(engine, first) == {"new": {"1", "2", "3"}}
    assert changes.summaries(session, [first])[first].text == "+3 new"

    # Job 2 is edited on the board: what we stored differs from what the next crawl finds.
    _set_title(engine, url(2), "Old title")
    second = _run(session, user.id, fixture_site, [2, 3, 4])
    assert _kinds(engine, second) == {"closed": {"1"}, "changed": {"2"}, "new": {"4"}}
    detail = changes.get_run_changes(session, user.id, second, kinds=["changed"])
    assert detail["summary"]["text"] == "+1 new · 1 changed · 1 closed"
    [edit] = detail["changes"]
    assert (edit["before"], edit["after"]) == ({"title": "Old title"}, {"title": "Engineer 2"})

    # Job 1 (closed last run) comes back under a new URL, job 5: a repost, not a new job.
    _set_title(engine, url(1), "Engineer 5")
    third = _run(session, user.id, fixture_site, [2, 3, 4, 5])
    assert _kinds(engine, third) == {"reposted": {"5"}}
    [repost] = changes.get_run_changes(session, user.id, third)["changes"]
    closed_id = next(j.id for j in jobs_of(engine, user.id) if j.source_url == url(1))
    assert repost["related_job_id"] == closed_id and repost["open_days"] == 0

    # Job 1 is listed again under its own URL: reopened, counted on the job.
    fourth = _run(session, user.id, fixture_site, [1, 2, 3, 4, 5])
    assert _kinds(engine, fourth) == {"reopened": {"1"}, "changed": {"1"}}  # its title changed back too
    job1 = next(j for j in jobs_of(engine, user.id) if j.source_url == url(1))
    assert (job1.status, job1.times_reopened) == ("active", 1)
    assert job1.first_seen_at < job1.last_seen_at

    history = {h.run_id: h for h in changes.attach_summaries(session, list_history(session, user.id))}
    assert history[second].changes.text == "+1 new · 1 changed · 1 closed"
    assert history[third].changes.reposted == 1 and history[third].changes.new == 0
    assert history[fourth].changes.text == "1 reopened · 1 changed"


def test_a_duplicate_delivery_records_no_second_change(engine, session, make_user):
    user = make_user()
    urls = [f"https://jobs.example.com/acme/{i}" for i in range(3)]
    run_id, item_ids = seed_run(session, user.id, urls)
    bodies = [ItemMessage(run_id=run_id, item_id=i, url=u) for i, u in zip(item_ids, urls, strict=True)]
    from ingest_app.core.pipeline import record_item_results
    from ingest_app.core.pipeline.record import ItemResult

    results = [ItemResult(run_id, i, u, posting(u)) for i, u in zip(item_ids, urls, strict=True)]
    assert record_item_results(results) == ["succeeded"] * 3
    assert record_item_results(results) == ["skipped"] * 3
    assert [outcome for outcome, _ in process_items(bodies)] == ["skipped"] * 3  # nothing pending
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(CHANGES)).scalar_one() == 3
    assert run_row(engine, run_id).jobs_added == 3


def test_the_one_by_one_path_records_a_reopening_and_a_repost_window_of_30_days(engine, session, make_user):
    user = make_user()
    reopened = "https://jobs.example.com/acme/back"
    add_archived_job(session, user.id, reopened)
    # A job closed 40 days ago with the same title: too old to count as reposted.
    long_ago = utcnow() - timedelta(days=40)
    session.add(
        Job(
            user_id=user.id,
            company="Acme",
            source_url="https://jobs.example.com/acme/ancient",
            title="Engineer",
            location="Remote",
            status="archived",
            first_seen_at=long_ago,
            last_seen_at=long_ago,
            archived_at=long_ago,
        )
    )
    session.commit()
    fresh = "https://jobs.example.com/acme/fresh"
    run_id, item_ids = seed_run(session, user.id, [reopened, fresh])
    from ingest_app.core.pipeline import record_item_result

    assert record_item_result(run_id, item_ids[0], posting=posting(reopened), error=None)
    assert record_item_result(run_id, item_ids[1], posting=posting(fresh), error=None)
    assert not record_item_result(run_id, item_ids[1], posting=posting(fresh), error=None)  # duplicate

    kinds = _kinds(engine, run_id)
    assert kinds == {"reopened": {"back"}, "changed": {"back"}, "new": {"fresh"}}
    detail = changes.get_run_changes(session, user.id, run_id, kinds=["reopened"])
    assert detail["changes"][0]["times_reopened"] == 1 and detail["changes"][0]["open_days"] == 30


def test_normalized_titles_ignore_case_accents_and_punctuation():
    assert changes.normalize_text("Sr. Ingénieur (m/f/d)") == changes.normalize_text("sr ingenieur m f d")
    assert changes.normalize_text("Backend Engineer") != changes.normalize_text("Frontend Engineer")
    assert changes.normalize_text("x" * 100_000) == "x" * 1000  # bounded input
