"""Listings that may carry postings (Personio's feed, Teamtailor's RSS, Workable's widget feed)
against a local site that sends ETags and answers 304: the postings they carry are recorded
without per-job requests and equal what the per-job path records; a job the listing carries no
posting for (Personio without a feed, Workable read from its v3 API) is fetched per job; the
listing is list_jobs' own, so an incomplete one still archives nothing and an unchanged re-run
finishes in stage 3."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from devtools.demo.data import source_for
from devtools.demo.site import DemoSite
from ingest_app.core.companies import add_company
from ingest_app.core.jobs import POSTING_FIELDS
from ingest_app.core.models import IngestionRunItem, Job
from ingest_app.core.pipeline import incremental
from tests.pipeline.test_pipeline_incremental import _jobs, _run
from tests.support.conditional_site import ConditionalServer
from tests.support.runs import run_row

JOBS = Job.__table__
ITEMS = IngestionRunItem.__table__
REFUSED = (403, "application/json", b'{"error": "Forbidden"}')
NO_FEED = (404, "text/html", b"<h1>Not found</h1>")


@pytest.fixture
def site(monkeypatch) -> Iterator[ConditionalServer]:
    from ingest_app.core.crawl.sources import clear_caches
    from ingest_app.core.settings import reset_settings_cache

    demo = DemoSite()
    for kind, slug, jobs in (
        ("personio", "personio-works", 3),
        ("teamtailor", "teamtailor-works", 6),  # two RSS pages of 4
        ("workable", "workable-works", 3),  # read from the widget feed (its v3 API refuses us)
        ("workable", "workable-api", 3),  # read from the v3 API: no postings in the listing
        ("personio", "personio-pages", 3),  # no feed: its job pages are listed
    ):
        demo.add_company(slug.replace("-", " ").title(), kind, slug=slug, jobs=jobs)
    server = ConditionalServer(demo)
    server.answers["/workable-api/api/v3/accounts/workable-works/jobs"] = REFUSED
    server.answers["/personio/personio-pages/xml"] = NO_FEED
    for key, value in server.settings_env().items():
        monkeypatch.setenv(key, value)
    reset_settings_cache()
    clear_caches()
    try:
        yield server
    finally:
        server.stop()
        monkeypatch.undo()
        reset_settings_cache()
        clear_caches()


def _add(session, user_id: int, server: ConditionalServer, slugs: tuple[str, ...]) -> None:
    for slug in slugs:
        company = server.site.companies[slug]
        add_company(session, user_id, name=company.name, source=source_for(company.kind, slug, server.base_url))
    session.commit()


def _postings(engine, run_id: int) -> dict[str, dict | None]:
    """URL -> the posting stage 3 stored on the run's item (None: crawled per job)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(ITEMS.c.url, ITEMS.c.posting).where(ITEMS.c.run_id == run_id)).all()
    return {row.url: row.posting for row in rows}


def _fields(engine, user_id: int) -> dict[str, dict]:
    return {url: {name: row._mapping[name] for name in POSTING_FIELDS} for url, row in _jobs(engine, user_id).items()}


FEEDS = ("personio-works", "teamtailor-works", "workable-works")


def test_feed_postings_are_recorded_without_a_job_request_and_equal_the_per_job_path(
    engine, session, make_user, site, monkeypatch
) -> None:
    user = make_user()
    _add(session, user.id, site, FEEDS)

    run_id, sent = _run(session, user.id)

    row = run_row(engine, run_id)
    assert (row.status, row.total_jobs_found, row.jobs_processed, row.jobs_added) == ("completed", 12, 12, 12)
    assert len(sent.bodies) == 12 and all(_postings(engine, run_id).values())
    assert site.count("/personio/personio-works/") == 1  # the feed; no job page
    assert site.count("/teamtailor/teamtailor-works/") == 3  # two RSS pages and an empty third; no job page
    assert site.count("/teamtailor/teamtailor-works/jobs.rss") == 3
    assert site.count("/workable-api/api/v3/", 403) == 1 and site.count("/workable-api/api/v1/widget/") == 1
    assert site.count("/workable-api/api/v2/") == 0 and site.count("/workable/") == 0
    assert [(c["listed"], c["skipped_reason"]) for c in row.companies] == [(3, None), (6, None), (3, None)]
    listed = _fields(engine, user.id)
    assert all(job["description"] for job in listed.values())

    # The same boards crawled per job (their families not read as postings) record the same fields.
    from ingest_app.core.crawl.sources import clear_caches

    clear_caches()
    other = make_user()
    _add(session, other.id, site, FEEDS)
    monkeypatch.setattr(incremental, "RICH_FAMILIES", ("greenhouse", "lever", "ashby", "recruitee", "pinpoint"))
    per_job, sent = _run(session, other.id)
    assert len(sent.bodies) == 12 and not any(_postings(engine, per_job).values())
    assert _fields(engine, other.id) == listed


def test_an_unchanged_rerun_of_feed_listings_finishes_in_stage_3(engine, session, make_user, site) -> None:
    user = make_user()
    _add(session, user.id, site, FEEDS)
    _run(session, user.id)
    site.reset()

    second, sent = _run(session, user.id)

    row = run_row(engine, second)
    assert (row.status, row.total_jobs_found, row.jobs_processed, row.jobs_added, row.jobs_failed) == (
        "completed", 12, 12, 0, 0
    )  # fmt: skip
    assert sent.bodies == []  # every item finished in stage 3
    assert site.count("/personio/", 304) == 1 and site.count("/personio/") == 1  # the stored feed listing
    assert site.count("/workable-api/api/v1/widget/", 304) == 1  # ...and the stored widget listing
    # A paged feed: every page asked conditionally, all 304, no job page.
    assert site.count("/teamtailor/", 304) == 3 and site.count("/teamtailor/") == 3
    assert row.jobs_archived == 0

    job = site.site.jobs("personio-works")[0]
    job.title = "Principal Feed Engineer"
    site.reset()

    third, sent = _run(session, user.id)

    row = run_row(engine, third)
    assert (row.status, row.jobs_processed, row.jobs_added) == ("completed", 12, 0)
    assert len(sent.bodies) == 1 and _postings(engine, third)[sent.bodies[0]["url"]]["title"] == job.title
    assert site.count("/personio/personio-works/job/") == 0  # the changed job from the feed, no request
    assert "Principal Feed Engineer" in {j.title for j in _jobs(engine, user.id).values()}


def test_a_personio_tenant_without_a_feed_lists_its_pages_crawls_each_and_archives_nothing(
    engine, session, make_user, site
) -> None:
    user = make_user()
    _add(session, user.id, site, ("personio-pages",))

    first, sent = _run(session, user.id)

    row = run_row(engine, first)
    assert (row.status, row.total_jobs_found, row.jobs_added) == ("completed", 3, 3)
    assert len(sent.bodies) == 3 and not any(_postings(engine, first).values())
    assert site.count("/personio/personio-pages/job/", 200) == 3  # each job page, once
    jobs = _jobs(engine, user.id)
    assert sorted(jobs) == sorted(site.site.listed_urls("personio-pages"))
    site.reset()

    second, sent = _run(session, user.id)

    row = run_row(engine, second)
    assert (row.status, row.total_jobs_found, row.jobs_processed, row.jobs_added, row.jobs_archived) == (
        "completed", 3, 3, 0, 0
    )  # fmt: skip
    assert [(c["listed"], c["skipped_reason"]) for c in row.companies] == [(3, None)]
    assert len(sent.bodies) == 3  # no posting to finish them with: each is crawled (conditionally)
    assert site.count("/personio/personio-pages/job/", 304) == 3 and site.count("/personio/personio-pages/", 200) == 0
    assert all(j.status == "active" for j in _jobs(engine, user.id).values())


def test_an_incomplete_teamtailor_feed_still_archives_nothing(engine, session, make_user, site, monkeypatch) -> None:
    from ingest_app.core.crawl.sources import teamtailor

    user = make_user()
    _add(session, user.id, site, ("teamtailor-works",))
    _run(session, user.id)
    assert len(_jobs(engine, user.id)) == 6
    monkeypatch.setattr(teamtailor, "MAX_PAGES", 1)  # the feed now has more pages than are read
    site.site.jobs("teamtailor-works")[0].title = "Principal Feed Engineer"  # page 1 changed: read again
    site.reset()

    second, sent = _run(session, user.id)

    row = run_row(engine, second)
    assert (row.status, row.total_jobs_found, row.jobs_processed, row.jobs_archived) == ("completed", 4, 4, 0)
    [company] = row.companies
    assert company["listed"] == 4 and company["skipped_reason"].endswith("; archiving skipped")
    assert "more than 1 pages" in company["skipped_reason"]
    assert len(sent.bodies) == 1  # the changed job; the other three it lists are unchanged
    assert all(j.status == "active" for j in _jobs(engine, user.id).values())  # the other two too


def test_a_workable_board_read_from_its_v3_api_is_crawled_per_job(engine, session, make_user, site) -> None:
    user = make_user()
    _add(session, user.id, site, ("workable-api",))

    first, sent = _run(session, user.id)

    row = run_row(engine, first)
    assert (row.status, row.total_jobs_found, row.jobs_added) == ("completed", 3, 3)
    assert len(sent.bodies) == 3 and not any(_postings(engine, first).values())
    assert site.count("/workable-api/api/v2/accounts/workable-api/jobs/") == 3  # each job's detail
    assert site.count("/workable-api/api/v1/widget/") == 0
    assert all(j.description for j in _jobs(engine, user.id).values())
    site.reset()

    second, sent = _run(session, user.id)

    row = run_row(engine, second)
    assert (row.status, row.jobs_processed, row.jobs_added, row.jobs_archived) == ("completed", 3, 0, 0)
    assert len(sent.bodies) == 3 and site.count("/workable-api/api/v2/") == 3


def test_a_listing_stored_before_its_family_carried_postings_is_read_again_once(
    engine, session, make_user, site, monkeypatch
) -> None:
    user = make_user()
    _add(session, user.id, site, ("personio-works",))
    with monkeypatch.context() as patch:  # the family crawled per job, its listing stored so
        patch.setattr(incremental, "RICH_FAMILIES", ("greenhouse", "lever", "ashby", "recruitee", "pinpoint"))
        _run(session, user.id)
    site.reset()

    second, sent = _run(session, user.id)

    # The stored listing says nothing of postings: its 304 is not used, the feed is read again
    # and its postings (the recorded jobs' fields) finish every item in stage 3.
    assert site.count("/personio/personio-works/xml", 304) == 1 and site.count("/personio/personio-works/xml", 200) == 1
    assert sent.bodies == [] and run_row(engine, second).jobs_processed == 3
    site.reset()

    _run(session, user.id)

    assert site.count("/personio/") == 1 and site.count("/personio/", 304) == 1  # from now on, a 304
