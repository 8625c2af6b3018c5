"""Stage 3 on PostgreSQL against a local Greenhouse-shaped fixture site: start, archive safely,
create items, commit before sending, complete empty runs; then the worker path per item."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from ingest_app.core.companies import CompanyNotFound, add_company
from ingest_app.core.models import IngestionRun, Job, utcnow
from ingest_app.core.pipeline import (
    NoCompanies,
    RunAlreadyActive,
    RunNotFound,
    begin_stage3,
    detect_stale_runs,
    get_active_run,
    get_progress,
    list_history,
    preview_company,
    process_item,
    process_listing,
    run_stage3,
    start_run,
)
from tests.support.fleet import CollectingSend
from tests.support.greenhouse_site import FixtureSite
from tests.support.runs import item_states, jobs_of, run_row

RUNS = IngestionRun.__table__


def _company(session, user_id: int, token: str, name: str | None = None, enabled: bool = True):
    company = add_company(session, user_id, name=name or token.title(), source=f"greenhouse:{token}", enabled=enabled)
    session.commit()
    return company


def _existing_jobs(session, user_id: int, company, urls: list[str], status: str = "active") -> None:
    old = utcnow() - timedelta(days=3)
    for url in urls:
        session.add(
            Job(
                user_id=user_id,
                company_id=company.id,
                company=company.name,
                source_url=url,
                status=status,
                first_seen_at=old,
                last_seen_at=old,
                archived_at=old if status == "archived" else None,
            )
        )
    session.commit()


def test_start_run_snapshots_enabled_companies_and_refuses_a_second_active_run(session, make_user):
    user = make_user()
    acme = _company(session, user.id, "acme")
    _company(session, user.id, "sleepy", enabled=False)

    run = start_run(session, user.id)

    assert (run.status, run.current_stage) == ("archiving", 3)
    assert run.started_at is not None and run.last_heartbeat is not None
    assert [c["company_id"] for c in run.companies] == [acme.id]
    assert run.companies[0]["source"] == "greenhouse:acme" and run.companies[0]["name"] == "Acme"
    assert get_active_run(session, user.id).run_id == run.run_id
    with pytest.raises(RunAlreadyActive) as err:
        start_run(session, user.id)
    assert err.value.run_id == run.run_id and "already in progress" in str(err.value)


def test_two_simultaneous_starts_make_one_run_the_database_refuses_the_other(engine, session, make_user):
    user = make_user()
    _company(session, user.id, "acme")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def start() -> None:
        with Session(engine) as s:
            barrier.wait()
            try:
                start_run(s, user.id)
                outcomes.append("started")
            except RunAlreadyActive:
                outcomes.append("refused")

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused", "started"]


def test_start_run_needs_companies_of_this_user(session, make_user):
    user, other = make_user(), make_user()
    with pytest.raises(NoCompanies):
        start_run(session, user.id)
    theirs = _company(session, other.id, "theirs")
    with pytest.raises(NoCompanies):
        start_run(session, user.id, [theirs.id])
    with pytest.raises(NoCompanies):
        start_run(session, user.id, [])
    assert get_active_run(session, user.id) is None


def test_a_run_with_no_jobs_completes_at_once(engine, session, make_user, fixture_site: FixtureSite, sent):
    user = make_user()
    fixture_site.boards["acme"] = []
    _company(session, user.id, "acme")
    run = start_run(session, user.id)

    run_stage3(run.run_id, send=sent)

    row = run_row(engine, run.run_id)
    assert (row.status, row.current_stage, row.total_jobs_found) == ("completed", 5, 0)
    assert row.completed_at is not None and sent.calls == 0
    assert get_progress(session, user.id, run.run_id).percent == 100.0


def test_stage3_archives_unlisted_jobs_of_this_user_only_and_commits_before_sending(
    engine, session, make_user, fixture_site: FixtureSite
):
    user, other = make_user(), make_user()
    fixture_site.boards["acme"] = [2, 3, 4]
    acme = _company(session, user.id, "acme")
    their_acme = _company(session, other.id, "acme")
    _existing_jobs(session, user.id, acme, [fixture_site.job_url(i) for i in (1, 2, 3)])
    _existing_jobs(session, other.id, their_acme, [fixture_site.job_url(i) for i in (1, 9)])
    run = start_run(session, user.id)
    seen_at_send: list[tuple] = []

    def send(bodies):  # what a worker would see the moment the first message is out
        with engine.connect() as conn:
            seen_at_send.append(
                conn.execute(sa.select(RUNS.c.status, RUNS.c.current_stage, RUNS.c.total_jobs_found)).one()
            )
        return CollectingSend()(bodies)

    run_stage3(run.run_id, send=send)

    assert seen_at_send == [("ingesting", 4, 3)]
    row = run_row(engine, run.run_id)
    assert (row.status, row.jobs_archived, row.total_jobs_found) == ("ingesting", 1, 3)
    mine = {j.source_url: j for j in jobs_of(engine, user.id)}
    assert mine[fixture_site.job_url(1)].status == "archived"
    assert mine[fixture_site.job_url(1)].archived_at is not None
    assert {mine[fixture_site.job_url(i)].status for i in (2, 3)} == {"active"}
    assert {j.status for j in jobs_of(engine, other.id)} == {"active"}  # never another user's jobs
    assert set(item_states(engine, run.run_id)) == {fixture_site.job_url(i) for i in (2, 3, 4)}
    assert row.companies[0]["listed"] == 3 and row.companies[0]["archived"] == 1
    assert row.companies[0]["error"] is None and row.companies[0]["skipped_reason"] is None


def test_failed_or_suddenly_empty_listings_archive_nothing_and_say_why(
    engine, session, make_user, fixture_site: FixtureSite, sent
):
    user = make_user()
    fixture_site.boards.update(broken=[1], empty=[], gone=[], fine=[5])
    fixture_site.broken_boards.add("broken")
    del fixture_site.boards["gone"]  # 404: the board does not exist (any more)
    companies = {t: _company(session, user.id, t) for t in ("broken", "empty", "gone", "fine")}
    for token, ids in {"broken": (1,), "empty": (2,), "gone": (3,), "fine": (4,)}.items():
        _existing_jobs(session, user.id, companies[token], [fixture_site.job_url(i) + token for i in ids])
    run = start_run(session, user.id)

    run_stage3(run.run_id, send=sent)

    row = run_row(engine, run.run_id)
    results = {c["name"]: c for c in row.companies}
    assert results["Broken"]["error"].startswith("http_5xx") and results["Broken"]["archived"] == 0
    assert "archiving skipped" in results["Broken"]["skipped_reason"]
    assert results["Gone"]["error"].startswith("not_found") and results["Gone"]["archived"] == 0
    assert results["Empty"]["error"] is None and results["Empty"]["listed"] == 0
    assert results["Empty"]["skipped_reason"] == "listed no jobs while 1 job is active; archiving skipped"
    assert results["Fine"]["archived"] == 1 and results["Fine"]["listed"] == 1
    statuses = {j.company: j.status for j in jobs_of(engine, user.id)}
    assert statuses == {"Broken": "active", "Empty": "active", "Gone": "active", "Fine": "archived"}
    assert row.jobs_archived == 1 and row.total_jobs_found == 1 and len(sent.bodies) == 1
    progress = get_progress(session, user.id, run.run_id)
    assert {c.name: c.skipped_reason is not None for c in progress.companies} == {
        "Broken": True,
        "Empty": True,
        "Fine": False,
        "Gone": True,
    }


def test_the_same_url_listed_by_two_companies_is_one_item(engine, session, make_user, fixture_site, sent):
    user = make_user()
    fixture_site.boards.update(one=[1, 2], two=[2, 3])
    _company(session, user.id, "one")
    _company(session, user.id, "two")
    run = start_run(session, user.id)

    run_stage3(run.run_id, send=sent)
    run_stage3(run.run_id, send=sent)  # a second stage 3 for the same run does nothing

    assert run_row(engine, run.run_id).total_jobs_found == 3
    assert sorted(b["url"] for b in sent.bodies) == [fixture_site.job_url(i) for i in (1, 2, 3)]
    assert all(b["hints"]["token"] in ("one", "two") for b in sent.bodies)


def test_a_send_that_keeps_failing_fails_the_run_with_the_reason(engine, session, make_user, fixture_site):
    user = make_user()
    fixture_site.boards["acme"] = [1, 2]
    _company(session, user.id, "acme")
    run = start_run(session, user.id)

    run_stage3(run.run_id, send=CollectingSend(fail=True))

    row = run_row(engine, run.run_id)
    assert row.status == "failed" and row.current_stage == 5 and row.completed_at is not None
    assert row.error_message == "Could not enqueue 2 of 2 jobs: queue unreachable"


def test_begin_stage3_with_an_unreachable_queue_records_the_failure_on_the_run(
    engine, session, make_user, fixture_site, settings
):
    import socket

    from ingest_app.core.queue import reset_clients

    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings(SQS_ENDPOINT_URL=f"http://127.0.0.1:{port}")
    reset_clients()
    user = make_user()
    fixture_site.boards["acme"] = [1]
    _company(session, user.id, "acme")
    run = start_run(session, user.id)
    try:
        assert begin_stage3(run.run_id) == 0
    finally:
        reset_clients()
    row = run_row(engine, run.run_id)
    assert row.status == "failed" and row.error_message.startswith("Could not enqueue stage 3 (1 listings)")
    assert fixture_site.requests == []  # nothing was listed


def test_a_run_stuck_in_archiving_restarts_stage3_when_stale(engine, session, make_user, fixture_site, sent):
    user = make_user()
    fixture_site.boards["acme"] = [1, 2]
    _company(session, user.id, "acme")
    run = start_run(session, user.id)  # stage 3 never ran (the app server died)
    with engine.begin() as conn:
        conn.execute(sa.update(RUNS).values(last_heartbeat=utcnow() - timedelta(minutes=30)))

    reports = detect_stale_runs(send=sent)

    assert [r["action"] for r in reports] == ["restarted_stage3"]
    [listing] = sent.bodies  # the company's listing message, for the worker fleet
    assert (listing["type"], listing["run_id"], listing["company_index"]) == ("listing", run.run_id, 0)
    assert process_listing(run.run_id, 0, send=sent) == "listed"
    row = run_row(engine, run.run_id)
    assert (row.status, row.retry_count, row.total_jobs_found) == ("ingesting", 1, 2)
    assert [b["type"] for b in sent.bodies] == ["listing", "item", "item"]


def test_partial_success_records_each_failure_and_completes(engine, session, make_user, fixture_site, sent):
    user = make_user()
    fixture_site.boards["acme"] = [1, 2, 3, 4, 5, 6]
    fixture_site.page_status.update({2: 404, 3: 500})
    fixture_site.page_delay[4] = 2.0  # longer than the 0.5 s read timeout
    _company(session, user.id, "acme")
    run = start_run(session, user.id)
    run_stage3(run.run_id, send=sent)

    outcomes = [process_item(message) for message in sent.messages]
    again = [process_item(message) for message in sent.messages]  # redelivered: all no-ops

    assert sorted(outcomes) == ["failed"] * 3 + ["succeeded"] * 3 and again == ["skipped"] * 6
    row = run_row(engine, run.run_id)
    assert (row.status, row.jobs_processed, row.jobs_added, row.jobs_failed) == ("completed", 6, 3, 3)
    states = item_states(engine, run.run_id)
    assert states[fixture_site.job_url(2)][1].startswith("not_found: ")
    assert states[fixture_site.job_url(3)][1].startswith("http_5xx: ")
    assert states[fixture_site.job_url(4)][1].startswith("timeout: ")
    jobs = {j.source_url: j for j in jobs_of(engine, user.id)}
    assert jobs[fixture_site.job_url(1)].title == "Engineer 1" and jobs[fixture_site.job_url(1)].company == "Acme"
    progress = get_progress(session, user.id, run.run_id)
    assert progress.percent == 100.0 and progress.status == "completed"
    assert sorted(f.url for f in progress.failed_items) == [fixture_site.job_url(i) for i in (2, 3, 4)]
    assert all(f.company == "Acme" and f.error for f in progress.failed_items)


def test_preview_lists_urls_or_the_error_for_the_owner_only(session, make_user, fixture_site):
    user, other = make_user(), make_user()
    fixture_site.boards["acme"] = [1, 2]
    fixture_site.broken_boards.add("broken")
    acme = _company(session, user.id, "acme")
    broken = _company(session, user.id, "broken")

    preview = preview_company(session, user.id, acme.id)
    assert preview.model_dump() == {
        "company_id": acme.id,
        "name": "Acme",
        "source": "greenhouse:acme",
        "count": 2,
        "urls": [fixture_site.job_url(1), fixture_site.job_url(2)],
        "error": None,
    }
    failed = preview_company(session, user.id, broken.id)
    assert failed.count == 0 and failed.error.kind == "http_5xx" and failed.error.reason
    with pytest.raises(CompanyNotFound):
        preview_company(session, other.id, acme.id)


def test_progress_and_history_belong_to_the_owner(engine, session, make_user, fixture_site, sent):
    user, other = make_user(), make_user()
    fixture_site.boards["acme"] = [1]
    _company(session, user.id, "acme")
    first = start_run(session, user.id)
    run_stage3(first.run_id, send=sent)
    progress = get_progress(session, user.id, first.run_id)
    assert (progress.status, progress.current_stage, progress.percent) == ("ingesting", 4, 0.0)
    assert progress.total_jobs_found == 1 and progress.elapsed_seconds >= 0
    assert progress.companies[0].listed == 1 and progress.failed_items == []
    with pytest.raises(RunNotFound):
        get_progress(session, other.id, first.run_id)
    assert list_history(session, user.id) == []  # not finished yet

    assert process_item(sent.messages[0]) == "succeeded"
    fixture_site.boards["acme"] = []
    second = start_run(session, user.id)
    run_stage3(second.run_id, send=sent)  # lists nothing while 1 job is active: nothing archived

    history = list_history(session, user.id)
    assert [h.run_id for h in history] == [second.run_id, first.run_id]
    assert history[1].jobs_added == 1 and history[1].companies == ["Acme"]
    assert history[1].duration_seconds is not None and history[1].duration_seconds >= 0
    assert history[0].status == "completed" and history[0].jobs_archived == 0
    assert list_history(session, other.id) == []
    assert len(list_history(session, user.id, limit=1)) == 1


def test_a_second_run_after_the_site_drops_two_jobs_and_adds_one(engine, session, make_user, fixture_site, sent):
    user = make_user()
    fixture_site.boards["acme"] = [1, 2, 3, 4]
    _company(session, user.id, "acme")
    first = start_run(session, user.id)
    run_stage3(first.run_id, send=sent)
    assert [process_item(m) for m in sent.messages] == ["succeeded"] * 4

    fixture_site.boards["acme"] = [1, 2, 5]
    second = start_run(session, user.id)
    again = CollectingSend()
    run_stage3(second.run_id, send=again)
    assert [process_item(m) for m in again.messages] == ["succeeded"] * 3

    row = run_row(engine, second.run_id)
    assert (row.status, row.jobs_archived, row.jobs_added, row.jobs_processed) == ("completed", 2, 1, 3)
    statuses = {j.source_url: j.status for j in jobs_of(engine, user.id)}
    assert statuses == {
        fixture_site.job_url(1): "active",
        fixture_site.job_url(2): "active",
        fixture_site.job_url(3): "archived",
        fixture_site.job_url(4): "archived",
        fixture_site.job_url(5): "active",
    }


def test_a_run_reset_during_listing_archives_and_sends_nothing(engine, session, make_user, fixture_site, sent):
    from ingest_app.core.pipeline import reset_run

    user = make_user()
    fixture_site.boards["acme"] = [2]
    acme = _company(session, user.id, "acme")
    _existing_jobs(session, user.id, acme, [fixture_site.job_url(1)])
    run = start_run(session, user.id)
    reset_run(session, user.id, run.run_id)

    run_stage3(run.run_id, send=sent)

    row = run_row(engine, run.run_id)
    assert (row.status, row.error_message, row.jobs_archived, row.total_jobs_found) == ("failed", "Reset by user", 0, 0)
    assert sent.calls == 0 and item_states(engine, run.run_id) == {}
    assert [j.status for j in jobs_of(engine, user.id)] == ["active"]


def test_progress_is_one_query_or_two_when_items_failed(engine, session, make_user, fixture_site, sent):
    fixture_site.boards["acme"] = [1, 2]
    fixture_site.page_status[2] = 404
    user = make_user()
    _company(session, user.id, "acme")
    run = start_run(session, user.id)
    run_stage3(run.run_id, send=sent)
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        with Session(engine) as s:
            get_progress(s, user.id, run.run_id)
        ingesting = len(statements)
        for message in sent.messages:
            process_item(message)
        statements.clear()
        with Session(engine) as s:
            progress = get_progress(s, user.id, run.run_id)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert ingesting == 1
    assert len(statements) == 2 and progress.jobs_failed == 1 and len(progress.failed_items) == 1


def test_a_job_that_moved_to_another_company_of_the_run_is_not_archived(engine, session, make_user, fixture_site, sent):
    user = make_user()
    fixture_site.boards.update(old=[2], new=[1])
    old = _company(session, user.id, "old")
    _company(session, user.id, "new")
    _existing_jobs(session, user.id, old, [fixture_site.job_url(1), fixture_site.job_url(3)])
    run = start_run(session, user.id)

    run_stage3(run.run_id, send=sent)

    statuses = {j.source_url: j.status for j in jobs_of(engine, user.id)}
    assert statuses == {fixture_site.job_url(1): "active", fixture_site.job_url(3): "archived"}
    assert run_row(engine, run.run_id).jobs_archived == 1


def test_a_careers_listing_cut_at_the_page_limit_archives_nothing(settings, engine, session, make_user, sent):
    from devtools.demo.site import DemoSite, start_demo_server

    site = DemoSite()
    site.add_company("Paged Careers", "careers", slug="paged", jobs=6, page_size=2)
    server = start_demo_server(site)
    try:
        user = make_user()
        source = server.company_sources()[0]["source"]
        company = add_company(session, user.id, name="Paged Careers", source=source)
        session.commit()
        listed = site.listed_urls("paged")
        _existing_jobs(session, user.id, company, [listed[-1], server.base_url + "/careers/paged/jobs/old-1"])
        settings(CRAWLER_MAX_PAGES="1")
        run = start_run(session, user.id)

        run_stage3(run.run_id, send=sent)
    finally:
        server.stop()

    row = run_row(engine, run.run_id)
    result = row.companies[0]
    assert result["listed"] == 2 and result["archived"] == 0
    assert "archiving skipped" in result["skipped_reason"] and "more than 1 pages" in result["skipped_reason"]
    assert {j.status for j in jobs_of(engine, user.id)} == {"active"}
    assert row.jobs_archived == 0 and row.total_jobs_found == 2


def test_job_urls_per_company_and_per_run_are_capped_and_the_results_say_so(
    engine, session, make_user, fixture_site, sent, settings
):
    """A 2.3 MB careers page once made 60,000 items: the caps keep the first URLs, the run's
    per-company results name what was cut, and a company cut short archives nothing."""
    settings(CRAWLER_MAX_JOBS_PER_COMPANY=5, INGEST_MAX_JOBS_PER_RUN=7)
    user = make_user()
    fixture_site.boards.update(big=list(range(1, 9)), second=list(range(20, 24)), third=[30])
    big = _company(session, user.id, "big")
    _company(session, user.id, "second")
    _company(session, user.id, "third")
    _existing_jobs(session, user.id, big, [fixture_site.job_url(99)])  # gone from the board
    run = start_run(session, user.id)
    run_stage3(run.run_id, send=sent)

    row = run_row(engine, run.run_id)
    results = {c["name"]: c for c in row.companies}
    assert results["Big"]["listed"] == 5
    assert "listed 8 job URLs, more than the limit of 5; kept the first 5" in results["Big"]["skipped_reason"]
    assert "archiving skipped" in results["Big"]["skipped_reason"] and results["Big"]["archived"] == 0
    assert {j.source_url: j.status for j in jobs_of(engine, user.id)}[fixture_site.job_url(99)] == "active"
    assert results["Second"]["listed"] == 4 and results["Second"]["cut"] == 2
    assert results["Second"]["cut_reason"] == "2 of 4 listed job URLs not crawled: a run crawls at most 7 job URLs"
    assert results["Second"]["cut_reason"] in results["Second"]["skipped_reason"]
    assert results["Third"]["cut"] == 1
    assert row.total_jobs_found == 7 and len(sent.bodies) == 7
    assert set(item_states(engine, run.run_id)) == {fixture_site.job_url(i) for i in (1, 2, 3, 4, 5, 20, 21)}


def test_previews_run_in_the_pool_with_a_per_user_limit(session, make_user, fixture_site, settings):
    """A user with previews in flight gets a clear refusal at once; another user is unaffected."""
    from ingest_app.core import listing_pool

    settings(PREVIEW_PER_USER_LIMIT=1, PREVIEW_TIMEOUT=5)
    listing_pool.reset_pool()
    try:
        user, other = make_user(), make_user()
        fixture_site.boards.update(acme=[1], beta=[2])
        acme = _company(session, user.id, "acme")
        beta = _company(session, other.id, "beta")
        release = threading.Event()
        pool = listing_pool.get_pool()
        held = pool.submit(user.id, lambda: release.wait(10))  # one preview of this user in flight
        with pytest.raises(listing_pool.PreviewBusy) as busy:
            preview_company(session, user.id, acme.id)
        assert "already have 1 previews running" in str(busy.value)
        assert preview_company(session, other.id, beta.id).urls == [fixture_site.job_url(2)]
        release.set()
        held.result(timeout=5)
        assert preview_company(session, user.id, acme.id).urls == [fixture_site.job_url(1)]
        assert pool.in_flight() == 0
    finally:
        listing_pool.reset_pool()


def test_a_preview_stops_at_its_deadline(session, make_user, settings):
    """A careers page whose headers trickle in ends at the preview deadline with a reason."""
    from ingest_app.core import listing_pool
    from tests.support.fixture_server import TrickleServer

    settings(PREVIEW_TIMEOUT=1.5, CRAWLER_READ_TIMEOUT=1, CRAWLER_ALLOW_PRIVATE_HOSTS=1)
    listing_pool.reset_pool()
    slow = TrickleServer(delay=0.2)
    try:
        user = make_user()
        company = add_company(session, user.id, name="Slow", source=f"careers:{slow.url('/careers/')}")
        session.commit()
        started = time.monotonic()
        preview = preview_company(session, user.id, company.id)
        assert time.monotonic() - started < 3
        assert preview.count == 0 and preview.error.kind == "timeout"
    finally:
        slow.stop()
        listing_pool.reset_pool()
