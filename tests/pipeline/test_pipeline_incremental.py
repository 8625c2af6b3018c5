"""Incremental runs against a local site that sends ETags and answers 304: listings that carry
postings are recorded without per-job requests, details are fetched only for new or changed
jobs, unchanged pages answer 304 and count as processed (not added), and a 304 listing is a
complete listing (it archives nothing it still lists)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from devtools.demo.data import source_for
from devtools.demo.site import DemoSite
from ingest_app.core.companies import add_company
from ingest_app.core.models import HttpValidator, Job
from ingest_app.core.pipeline import process_item, run_stage3, start_run
from ingest_app.core.pipeline.process import process_items
from tests.support.conditional_site import ConditionalServer
from tests.support.fleet import CollectingSend
from tests.support.runs import run_row

JOBS = Job.__table__


def _serve(settings, demo: DemoSite) -> Iterator[ConditionalServer]:
    """The demo site behind ETags and 304s, the crawler pointed at it (source caches cleared)."""
    from ingest_app.core.crawl.sources import clear_caches

    server = ConditionalServer(demo)
    settings(server.settings_env())
    clear_caches()
    try:
        yield server
    finally:
        server.stop()
        clear_caches()


@pytest.fixture
def site(settings) -> Iterator[ConditionalServer]:
    demo = DemoSite()
    for kind in ("greenhouse", "lever", "ashby", "careers"):
        demo.add_company(f"{kind.title()} Works", kind, slug=f"{kind}-works", jobs=3)
    yield from _serve(settings, demo)


def _add(session, user_id: int, server: ConditionalServer, kinds: tuple[str, ...]) -> None:
    for company in server.site.companies.values():
        if company.kind in kinds:
            add_company(
                session, user_id, name=company.name, source=source_for(company.kind, company.slug, server.base_url)
            )
    session.commit()


def _run(session, user_id: int) -> tuple[int, CollectingSend]:
    run = start_run(session, user_id)
    sent = CollectingSend()
    run_stage3(run.run_id, send=sent)
    outcomes = [outcome for outcome, _ in process_items(sent.messages)]
    assert set(outcomes) <= {"succeeded"}, outcomes
    return run.run_id, sent


def _jobs(engine, user_id: int) -> dict[str, sa.Row]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(JOBS).where(JOBS.c.user_id == user_id)).all()
    return {row.source_url: row for row in rows}


RICH = ("greenhouse", "lever", "ashby")


def test_rich_listings_are_recorded_without_a_job_fetch_and_greenhouse_adds_its_pay_range(
    engine, session, make_user, site
) -> None:
    user = make_user()
    _add(session, user.id, site, RICH)

    run_id, sent = _run(session, user.id)

    row = run_row(engine, run_id)
    assert (row.status, row.total_jobs_found, row.jobs_processed, row.jobs_added) == ("completed", 9, 9, 9)
    assert len(sent.bodies) == 9  # one message per item
    assert site.count("/greenhouse/v1/boards/greenhouse-works/jobs", 200) == 1 + 3  # listing + 3 details
    assert site.count("/lever/") == 1 and site.count("/ashby/") == 1  # the listing only
    assert site.count("/jobs/") == 0  # no job page fetched
    jobs = _jobs(engine, user.id)
    assert len(jobs) == 9 and all(j.title and j.description for j in jobs.values())
    greenhouse = [j for j in jobs.values() if j.company == "Greenhouse Works"]
    assert all(j.salary_min is not None and j.source_updated_at is not None for j in greenhouse)


def test_an_unchanged_rerun_sends_nothing_and_a_changed_job_alone_gets_its_detail(
    engine, session, make_user, site
) -> None:
    user = make_user()
    _add(session, user.id, site, RICH)
    first, _ = _run(session, user.id)
    seen_first = {url: j.last_seen_at for url, j in _jobs(engine, user.id).items()}
    site.reset()

    second, sent = _run(session, user.id)

    row = run_row(engine, second)
    assert (row.status, row.total_jobs_found, row.jobs_processed, row.jobs_added, row.jobs_failed) == (
        "completed", 9, 9, 0, 0
    )  # fmt: skip
    assert sent.bodies == []  # every item finished in stage 3
    assert site.statuses() == {304: 3}  # three conditional listings, nothing else
    jobs = _jobs(engine, user.id)
    assert all(j.last_seen_at > seen_first[url] and j.last_run_id == second for url, j in jobs.items())

    job = site.site.jobs("greenhouse-works")[0]
    job.posted_at -= timedelta(days=1)  # Greenhouse moves updated_at with the edit
    job.title = "Principal Rocket Engineer"
    site.reset()

    third, sent = _run(session, user.id)

    row = run_row(engine, third)
    assert (row.status, row.jobs_processed, row.jobs_added) == ("completed", 9, 0)
    assert len(sent.bodies) == 1  # only the changed job
    assert site.count(f"/greenhouse/v1/boards/greenhouse-works/jobs/{job.id}") == 1  # its detail, once
    assert site.count("/greenhouse/", 200) == 2 and site.statuses()[304] == 2  # changed listing + detail
    assert "Principal Rocket Engineer" in {j.title for j in _jobs(engine, user.id).values()}


def test_an_unchanged_careers_page_and_its_job_pages_answer_304_and_count_processed_not_added(
    engine, session, make_user, site
) -> None:
    user = make_user()
    _add(session, user.id, site, ("careers",))
    first, sent = _run(session, user.id)
    assert len(sent.bodies) == 3 and site.count("/jobs/careers-works/", 200) == 3
    before = _jobs(engine, user.id)
    with engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(HttpValidator.__table__)).scalar_one()
    assert stored == 4  # the careers page (with its listing) and three job pages
    site.reset()

    second, sent = _run(session, user.id)

    row = run_row(engine, second)
    assert (row.status, row.total_jobs_found, row.jobs_processed, row.jobs_added, row.jobs_failed) == (
        "completed", 3, 3, 0, 0
    )  # fmt: skip
    assert len(sent.bodies) == 3  # one message per item
    assert site.count("/careers/careers-works/", 304) == 1 and site.count("/jobs/careers-works/", 304) == 3
    assert site.statuses().get(200, 0) == 0  # robots.txt is cached by the process
    # The 304 listing is the stored one: complete, so nothing it lists is archived.
    assert row.jobs_archived == 0
    assert [(c["listed"], c["skipped_reason"]) for c in row.companies] == [(3, None)]
    after = _jobs(engine, user.id)
    assert all(j.status == "active" for j in after.values())
    for url, job in after.items():
        assert job.last_seen_at > before[url].last_seen_at and job.last_run_id == second
        assert (job.title, job.description) == (before[url].title, before[url].description)


def test_a_removed_job_is_archived_after_a_changed_careers_listing_even_with_validators(
    engine, session, make_user, site
) -> None:
    user = make_user()
    _add(session, user.id, site, ("careers",))
    _run(session, user.id)
    gone = site.site.jobs("careers-works")[0]
    site.site.remove_job("careers-works", gone.id)

    second, _ = _run(session, user.id)

    row = run_row(engine, second)
    assert (row.status, row.total_jobs_found, row.jobs_archived) == ("completed", 2, 1)


def test_a_rich_item_delivered_twice_concurrently_counts_once(engine, session, make_user, site) -> None:
    user = make_user()
    _add(session, user.id, site, ("lever", "ashby"))
    run = start_run(session, user.id)
    sent = CollectingSend()
    run_stage3(run.run_id, send=sent)

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(process_item, sent.messages + sent.messages))
    outcomes += [outcome for outcome, _ in process_items(sent.messages)]

    assert outcomes.count("succeeded") == 6 and outcomes.count("skipped") == 12
    row = run_row(engine, run.run_id)
    assert (row.status, row.total_jobs_found, row.jobs_processed, row.jobs_added) == ("completed", 6, 6, 6)
    assert site.count("/lever/") == 1 and site.count("/ashby/") == 1  # no per-job request at all


@pytest.fixture
def paged_site(settings) -> Iterator[ConditionalServer]:
    """One careers company whose 5 jobs take 3 listing pages (2 a page)."""
    demo = DemoSite()
    demo.add_company("Paged Works", "careers", slug="paged-works", jobs=5, page_size=2)
    yield from _serve(settings, demo)


def _listing_requests(server: ConditionalServer) -> list[tuple[str, int]]:
    return [(query, status) for path, query, status in server.requests if path.startswith("/careers/paged-works/")]


def test_an_unchanged_listing_of_several_pages_answers_304_on_every_page(
    engine, session, make_user, paged_site
) -> None:
    user = make_user()
    _add(session, user.id, paged_site, ("careers",))
    first, _ = _run(session, user.id)
    assert [status for _, status in _listing_requests(paged_site)] == [200, 200, 200]
    with engine.connect() as conn:
        listing = conn.execute(
            sa.select(HttpValidator.__table__.c.listing).where(HttpValidator.__table__.c.listing.is_not(None))
        ).scalar_one()
    assert [page[0].rsplit("?", 1)[-1] for page in listing["pages"]] == ["page=2", "page=3"]
    paged_site.reset()

    second, sent = _run(session, user.id)

    row = run_row(engine, second)
    assert (row.status, row.total_jobs_found, row.jobs_processed, row.jobs_added, row.jobs_archived) == (
        "completed", 5, 5, 0, 0
    )  # fmt: skip
    assert [status for _, status in _listing_requests(paged_site)] == [304, 304, 304]  # no page read in full
    assert paged_site.count("/jobs/paged-works/", 304) == 5
    assert paged_site.statuses().get(200, 0) == 0
    assert len(sent.bodies) == 5


def test_a_change_on_a_later_page_has_the_listing_read_again_in_full(engine, session, make_user, paged_site) -> None:
    user = make_user()
    _add(session, user.id, paged_site, ("careers",))
    _run(session, user.id)
    last = paged_site.site.jobs("paged-works")[-1]
    last.title = "Principal Paging Engineer"  # shown on page 3 only
    paged_site.reset()

    second, _ = _run(session, user.id)

    # Page 1 and 2 answer 304, page 3 has changed: the listing is read again in full.
    assert [status for _, status in _listing_requests(paged_site)] == [304, 304, 200, 200, 200, 200]
    row = run_row(engine, second)
    assert (row.status, row.total_jobs_found, row.jobs_processed, row.jobs_archived) == ("completed", 5, 5, 0)
    assert "Principal Paging Engineer" in {j.title for j in _jobs(engine, user.id).values()}

    paged_site.site.remove_job("paged-works", last.id)
    paged_site.reset()

    third, _ = _run(session, user.id)

    row = run_row(engine, third)
    assert (row.status, row.total_jobs_found, row.jobs_archived) == ("completed", 4, 1)


def test_only_a_listing_read_by_gets_with_validators_is_remembered() -> None:
    from ingest_app.core.crawl.validators import Conditional
    from ingest_app.core.pipeline.incremental import _remember

    def scope(fetched, seen, other_answers=0, robots=()):
        return Conditional(fetched=list(fetched), seen=dict(seen), other_answers=other_answers, robots=set(robots))

    a, b = "https://x.example/jobs", "https://x.example/jobs?page=2"
    kept = _remember(scope([a, b], {a: ('"1"', None), b: (None, "Tue")}, robots=[b]), {"jobs": []})
    assert (kept.url, kept.etag, kept.listing["pages"]) == (a, '"1"', [[b, None, "Tue", True]])
    assert _remember(scope([a], {a: ('"1"', None)}), {"jobs": []}).listing == {"jobs": []}
    assert _remember(scope([a, b], {a: ('"1"', None)}), {}) is None  # page 2 sent no validators
    assert _remember(scope([a], {a: ('"1"', None)}, other_answers=1), {}) is None  # a POST was answered
    assert _remember(scope([], {}), {}) is None
