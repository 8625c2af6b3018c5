"""Stage 3 in the worker fleet on PostgreSQL: listing messages record once, the last listing ends
stage 3 exactly once, a crash mid-listing is recovered by the stale detector, and starting a run
in the web process fetches nothing."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from ingest_app.core.companies import add_company
from ingest_app.core.models import IngestionRun, utcnow
from ingest_app.core.pipeline import begin_stage3, detect_stale_runs, process_listing, stage3, start_run
from ingest_app.core.pipeline.listing import list_company
from tests.support.fleet import CollectingSend
from tests.support.greenhouse_site import FixtureSite
from tests.support.runs import run_row

RUNS = IngestionRun.__table__


def _run(session, user_id: int, boards: dict[str, list[int]], site: FixtureSite) -> int:
    site.boards.update(boards)
    for token in boards:
        add_company(session, user_id, name=token.title(), source=f"greenhouse:{token}")
    session.commit()
    return start_run(session, user_id).run_id


def _listings(engine, run_id: int) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM run_listings WHERE run_id = :r"), {"r": run_id}).scalar()


def test_starting_enqueues_one_listing_per_company_and_fetches_nothing(engine, session, make_user, fixture_site):
    user = make_user()
    run_id = _run(session, user.id, {"acme": [1, 2], "beta": [3]}, fixture_site)
    sent = CollectingSend()

    assert begin_stage3(run_id, send=sent) == 2

    assert fixture_site.requests == []  # the web path only commits and enqueues
    assert [(b["type"], b["company_index"]) for b in sent.bodies] == [("listing", 0), ("listing", 1)]
    row = run_row(engine, run_id)
    assert (row.status, _listings(engine, run_id)) == ("archiving", 0)
    for body in list(sent.bodies):  # the worker side
        assert process_listing(body["run_id"], body["company_index"], send=sent) == "listed"
    assert fixture_site.requests  # the listing fetches happened in the worker
    row = run_row(engine, run_id)
    assert (row.status, row.total_jobs_found, _listings(engine, run_id)) == ("ingesting", 3, 2)
    assert sorted(b["url"] for b in sent.bodies if b["type"] == "item") == [fixture_site.job_url(i) for i in (1, 2, 3)]


def test_a_duplicate_listing_message_records_once(engine, session, make_user, fixture_site):
    user = make_user()
    run_id = _run(session, user.id, {"acme": [1], "beta": [2]}, fixture_site)
    sent = CollectingSend()

    assert process_listing(run_id, 0, send=sent) == "listed"
    assert process_listing(run_id, 0, send=sent) == "skipped"  # redelivered
    # A duplicate that listed concurrently (passed the pre-check) still records nothing.
    assert stage3.record_listing(run_id, 0, stage3.Listing()) == (False, False)

    row = run_row(engine, run_id)
    assert (row.status, _listings(engine, run_id)) == ("archiving", 1)
    assert sent.bodies == []
    assert process_listing(run_id, 1, send=sent) == "listed"
    row = run_row(engine, run_id)
    assert (row.status, _listings(engine, run_id), row.total_jobs_found) == ("ingesting", 2, 2)
    assert len(sent.bodies) == 2


def test_the_last_two_listings_at_once_end_stage3_exactly_once(engine, session, make_user, fixture_site):
    user = make_user()
    run_id = _run(session, user.id, {"acme": [1, 2], "beta": [3, 4]}, fixture_site)
    sent = CollectingSend()
    finished: list[str | None] = []
    original = stage3.finish_stage3
    barrier = threading.Barrier(2)

    def listing(index: int) -> None:
        barrier.wait()
        process_listing(run_id, index, send=sent)

    def finish(run_id: int, send=None):  # both workers also try to finish: only one may
        status = original(run_id, send)
        finished.append(status)
        return status

    stage3.finish_stage3 = finish
    try:
        threads = [threading.Thread(target=listing, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        # The detector (or a late duplicate) finishing again changes nothing.
        assert original(run_id, sent) is None
    finally:
        stage3.finish_stage3 = original

    assert finished == ["ingesting"]  # exactly one recording was the last
    row = run_row(engine, run_id)
    assert (row.status, row.total_jobs_found, _listings(engine, run_id)) == ("ingesting", 4, 2)
    assert sorted(b["item_id"] for b in sent.bodies) == sorted(set(b["item_id"] for b in sent.bodies))
    assert len(sent.bodies) == 4


def test_a_worker_killed_mid_listing_is_recovered_by_the_stale_detector(engine, session, make_user, fixture_site):
    user = make_user()
    run_id = _run(session, user.id, {"acme": [1], "beta": [2, 3]}, fixture_site)
    sent = CollectingSend()
    assert process_listing(run_id, 0, send=sent) == "listed"
    # The worker listing "beta" died (SIGKILL): its message went to the DLQ; nothing recorded.
    with engine.begin() as conn:
        conn.execute(sa.update(RUNS).values(last_heartbeat=utcnow() - timedelta(minutes=30)))

    [report] = detect_stale_runs(send=sent)

    assert (report["action"], report["resent"]) == ("restarted_stage3", 1)
    [body] = sent.bodies  # only the missing company's listing goes out again
    assert (body["type"], body["company_index"]) == ("listing", 1)
    assert process_listing(run_id, 1, send=sent) == "listed"
    row = run_row(engine, run_id)
    assert (row.status, row.retry_count, row.total_jobs_found) == ("ingesting", 1, 3)


def test_a_worker_killed_after_the_last_listing_is_finished_by_the_stale_detector(
    engine, session, make_user, fixture_site
):
    user = make_user()
    run_id = _run(session, user.id, {"acme": [1, 2]}, fixture_site)
    listing = list_company("greenhouse:acme")
    assert stage3.record_listing(run_id, 0, listing) == (True, True)  # ... then the worker died
    with engine.begin() as conn:
        conn.execute(sa.update(RUNS).values(last_heartbeat=utcnow() - timedelta(minutes=30)))
    sent = CollectingSend()

    [report] = detect_stale_runs(send=sent)

    assert report["action"] == "restarted_stage3"
    row = run_row(engine, run_id)
    assert (row.status, row.total_jobs_found) == ("ingesting", 2)
    assert [b["type"] for b in sent.bodies] == ["item", "item"]


def test_a_stage3_that_never_lists_finally_fails_with_the_reason(engine, session, make_user, fixture_site):
    user = make_user()
    run_id = _run(session, user.id, {"acme": [1]}, fixture_site)
    sent = CollectingSend()
    for _attempt in range(4):  # 3 retries, then failed
        with engine.begin() as conn:
            conn.execute(sa.update(RUNS).values(last_heartbeat=utcnow() - timedelta(minutes=30)))
        [report] = detect_stale_runs(send=sent)
    assert report["action"] == "failed" and len(sent.bodies) == 3
    row = run_row(engine, run_id)
    assert row.status == "failed" and row.error_message.startswith("Stale run: stage 3 (listing and archiving)")
    assert process_listing(run_id, 0, send=sent) == "skipped"  # a late listing message changes nothing


def test_a_redelivered_last_listing_ends_a_stage3_its_first_worker_could_not(engine, session, make_user, fixture_site):
    user = make_user()
    run_id = _run(session, user.id, {"acme": [1, 2]}, fixture_site)
    # The first delivery recorded the listing, then its worker failed before ending stage 3.
    assert stage3.record_listing(run_id, 0, list_company("greenhouse:acme")) == (True, True)
    fetched = len(fixture_site.requests)
    sent = CollectingSend()

    assert process_listing(run_id, 0, send=sent) == "skipped"  # the redelivery lists nothing ...

    assert len(fixture_site.requests) == fetched
    row = run_row(engine, run_id)  # ... and ends stage 3
    assert (row.status, row.total_jobs_found) == ("ingesting", 2) and len(sent.bodies) == 2
    assert process_listing(run_id, 0, send=sent) == "skipped" and len(sent.bodies) == 2
