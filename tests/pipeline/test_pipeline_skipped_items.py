"""A listed page that is not a job posting, served by a local site, on PostgreSQL: the item ends
`skipped` (processed, not failed, nothing stored), counted once under duplicate and concurrent
delivery on both recording paths, the run completes, the stale detector does not resend it, and
progress shows it apart from the failures."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ingest_app.core.models import IngestionRun, utcnow
from ingest_app.core.pipeline import (
    SKIPPED_REASON,
    ItemMessage,
    ItemResult,
    detect_stale_runs,
    get_progress,
    process_item,
    process_items,
    record_item_result,
    record_item_results,
)
from tests.support.fleet import CollectingSend
from tests.support.pages import PageServer
from tests.support.runs import item_states, jobs_of, run_row, seed_run

RUNS = IngestionRun.__table__
NOT_A_JOB_ERROR = "not_a_job_page: no job posting found on the page"


def _bodies(run_id: int, item_ids: list[int]) -> list[ItemMessage]:
    return [ItemMessage(run_id=run_id, item_id=item_id) for item_id in item_ids]


def _three_kinds(server: PageServer) -> list[str]:
    """A job page, a company page that holds no posting, and a page that is gone (404)."""
    return [server.url(1), server.not_a_job_url(2), server.base_url + "/gone/3"]


def _assert_one_of_each(engine, session, user_id: int, run_id: int, server: PageServer) -> None:
    run = run_row(engine, run_id)
    assert (run.status, run.current_stage) == ("completed", 5)
    assert (run.jobs_processed, run.jobs_added, run.jobs_failed, run.jobs_skipped) == (3, 1, 1, 1)
    states = item_states(engine, run_id)
    assert states[server.url(1)] == ("succeeded", None)
    assert states[server.not_a_job_url(2)] == ("skipped", NOT_A_JOB_ERROR)
    assert states[server.base_url + "/gone/3"][0] == "failed"
    assert [j.source_url for j in jobs_of(engine, user_id)] == [server.url(1)]  # nothing stored for it

    progress = get_progress(session, user_id, run_id)
    assert [i.url for i in progress.failed_items] == [server.base_url + "/gone/3"]
    assert [i.model_dump() for i in progress.skipped_items] == [
        {"url": server.not_a_job_url(2), "company": "Acme", "reason": SKIPPED_REASON, "detail": NOT_A_JOB_ERROR}
    ]
    assert (progress.jobs_failed, progress.jobs_skipped, progress.percent) == (1, 1, 100.0)


def test_one_by_one_a_page_that_is_not_a_job_is_skipped_not_failed_and_counts_once(
    engine, session, make_user, page_server: PageServer
):
    user = make_user()
    run_id, item_ids = seed_run(session, user.id, _three_kinds(page_server))
    bodies = _bodies(run_id, item_ids) * 2  # every message delivered twice, concurrently

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(process_item, bodies))

    assert sorted(outcomes) == ["failed", "not_a_job", "skipped", "skipped", "skipped", "succeeded"]
    _assert_one_of_each(engine, session, user.id, run_id, page_server)
    assert [process_item(b) for b in bodies[:3]] == ["skipped"] * 3  # a late redelivery changes nothing
    assert run_row(engine, run_id).jobs_processed == 3


def test_in_batches_a_page_that_is_not_a_job_is_skipped_not_failed_and_counts_once(
    engine, session, make_user, page_server: PageServer
):
    user = make_user()
    run_id, item_ids = seed_run(session, user.id, _three_kinds(page_server))

    with ThreadPoolExecutor(max_workers=4) as pool:
        first = [outcome for outcome, _ in process_items(_bodies(run_id, item_ids), executor=pool)]
        again = [outcome for outcome, _ in process_items(_bodies(run_id, item_ids), executor=pool)]

    assert first == ["succeeded", "not_a_job", "failed"] and again == ["skipped"] * 3
    _assert_one_of_each(engine, session, user.id, run_id, page_server)


def test_two_batches_recording_the_same_skipped_item_at_once_count_it_once(engine, session, make_user):
    user = make_user()
    urls = [f"https://acme.example/about/{i}" for i in range(20)]
    run_id, item_ids = seed_run(session, user.id, urls)
    results = [
        ItemResult(run_id, item_id, url, None, NOT_A_JOB_ERROR) for item_id, url in zip(item_ids, urls, strict=True)
    ]
    barrier = threading.Barrier(2)
    outcomes: list[list] = []

    def deliver(batch: list[ItemResult]) -> None:
        barrier.wait()
        outcomes.append(record_item_results(batch))

    threads = [threading.Thread(target=deliver, args=(b,)) for b in (results, list(reversed(results)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(o for batch in outcomes for o in batch) == ["not_a_job"] * 20 + ["skipped"] * 20
    run = run_row(engine, run_id)
    assert (run.status, run.jobs_processed, run.jobs_added, run.jobs_failed, run.jobs_skipped) == (
        "completed",
        20,
        0,
        0,
        20,
    )
    assert {state for state, _ in item_states(engine, run_id).values()} == {"skipped"}


def test_a_run_of_only_pages_that_are_not_jobs_completes_once_with_no_failures(engine, session, make_user):
    user = make_user()
    urls = ["https://acme.example/about", "https://acme.example/team"]
    run_id, item_ids = seed_run(session, user.id, urls)

    assert record_item_result(run_id, item_ids[0], posting=None, error=NOT_A_JOB_ERROR)
    assert run_row(engine, run_id).status == "ingesting"
    assert record_item_result(run_id, item_ids[1], posting=None, error=NOT_A_JOB_ERROR)
    assert not record_item_result(run_id, item_ids[1], posting=None, error=NOT_A_JOB_ERROR)

    run = run_row(engine, run_id)
    assert (run.status, run.jobs_processed, run.jobs_failed, run.jobs_skipped) == ("completed", 2, 0, 2)


def test_other_crawl_errors_still_fail_the_item(engine, session, make_user):
    user = make_user()
    run_id, item_ids = seed_run(session, user.id, ["https://acme.example/jobs/1"])

    assert record_item_result(run_id, item_ids[0], posting=None, error="not_found: HTTP 404")

    run = run_row(engine, run_id)
    assert (run.jobs_processed, run.jobs_failed, run.jobs_skipped) == (1, 1, 0)


def test_the_stale_detector_resends_pending_items_only_not_skipped_ones(engine, session, make_user):
    user = make_user()
    urls = ["https://acme.example/about", "https://acme.example/jobs/2"]
    run_id, item_ids = seed_run(session, user.id, urls)
    assert record_item_result(run_id, item_ids[0], posting=None, error=NOT_A_JOB_ERROR)
    with engine.begin() as conn:
        conn.execute(
            sa.update(RUNS).where(RUNS.c.run_id == run_id).values(last_heartbeat=utcnow() - timedelta(minutes=20))
        )
    sent = CollectingSend()

    reports = detect_stale_runs(send=sent)

    assert [r["action"] for r in reports] == ["retried"] and sent.item_ids == [item_ids[1]]
    run = run_row(engine, run_id)
    assert (run.status, run.jobs_processed, run.jobs_skipped) == ("ingesting", 1, 1)


def test_the_database_refuses_an_unknown_item_state(engine, session, make_user):
    user = make_user()
    run_id, _ = seed_run(session, user.id, ["https://acme.example/jobs/1"])
    items = IngestionRun.metadata.tables["ingestion_run_items"]
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.update(items).where(items.c.run_id == run_id).values(state="ignored"))
