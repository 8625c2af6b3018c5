"""The batch path (`record_item_results`, `process_items`) keeps invariants 1, 2 and 4 on
PostgreSQL: one transaction per run and batch, exact counts under duplicate, overlapping and
concurrent delivery, completion exactly once, no change after a reset, partial-batch failures."""

from __future__ import annotations

import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from ingest_app.core.models import IngestionRunItem
from ingest_app.core.pipeline import ItemMessage, ItemResult, process_items, record_item_results, reset_run
from tests.support.runs import add_archived_job, item_states, jobs_of, posting, run_row, seed_run
from tests.support.settings import override_settings

URL = "https://jobs.example.com/acme/{}"


def result(run_id: int, item_id: int, url: str, fail: bool = False) -> ItemResult:
    if fail:
        return ItemResult(run_id, item_id, url, posting=None, error="not_found: HTTP 404")
    return ItemResult(run_id, item_id, url, posting=posting(url), error=None)


def test_a_batch_is_recorded_in_one_go_with_exact_counters_and_completion(engine, session, make_user, caplog):
    user = make_user()
    urls = [URL.format(i) for i in range(10)]
    run_id, item_ids = seed_run(session, user.id, urls)
    caplog.set_level(logging.INFO, logger="ingest_app.core.pipeline.record")
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    from ingest_app.core.db import get_engine

    sa.event.listen(get_engine(), "before_cursor_execute", seen)
    try:
        outcomes = record_item_results(
            [result(run_id, i, u, fail=n % 3 == 0) for n, (i, u) in enumerate(zip(item_ids, urls, strict=True))]
        )
    finally:
        sa.event.remove(get_engine(), "before_cursor_execute", seen)

    assert outcomes == ["failed" if n % 3 == 0 else "succeeded" for n in range(10)]
    assert len(statements) < 10  # one transaction of a few statements, not one per item
    assert sum(1 for s in statements if s.lstrip().upper().startswith("INSERT INTO JOBS")) == 1
    run = run_row(engine, run_id)
    assert (run.jobs_processed, run.jobs_added, run.jobs_failed) == (10, 6, 4)
    assert run.status == "completed" and run.completed_at is not None
    assert [r.getMessage() for r in caplog.records].count(f"run {run_id} completed") == 1
    assert len(jobs_of(engine, user.id)) == 6
    states = item_states(engine, run_id)
    assert sum(1 for s, e in states.values() if s == "failed" and e == "not_found: HTTP 404") == 4
    with engine.connect() as conn:
        attempts = conn.execute(
            sa.select(IngestionRunItem.__table__.c.attempts).where(IngestionRunItem.__table__.c.run_id == run_id)
        ).scalars()
        assert set(attempts) == {1}

    # The same batch delivered again: every record a no-op.
    again = record_item_results([result(run_id, i, u) for i, u in zip(item_ids, urls, strict=True)])
    assert again == ["skipped"] * 10
    assert (run_row(engine, run_id).jobs_processed, len(jobs_of(engine, user.id))) == (10, 6)


def test_overlapping_batches_delivered_concurrently_count_exactly_and_complete_once(engine, session, make_user, caplog):
    from ingest_app.core.db import dispose_engines

    with override_settings(DB_MAX_OVERFLOW=20):
        dispose_engines()
        user = make_user()
        urls = [URL.format(i) for i in range(60)]
        run_id, item_ids = seed_run(session, user.id, urls)
        failing = set(item_ids[::5])
        every = [result(run_id, i, u, fail=i in failing) for i, u in zip(item_ids, urls, strict=True)]
        # Every item delivered three times, grouped into batches of up to 10 in different orders.
        rng = random.Random(11)
        deliveries = every * 3
        rng.shuffle(deliveries)
        batches = [deliveries[start : start + 10] for start in range(0, len(deliveries), 10)]
        barrier = threading.Barrier(len(batches))
        caplog.set_level(logging.INFO, logger="ingest_app.core.pipeline.record")

        def deliver(batch: list[ItemResult]) -> list:
            barrier.wait()
            return record_item_results(batch)

        try:
            with ThreadPoolExecutor(max_workers=len(batches)) as pool:
                outcomes = [o for batch in pool.map(deliver, batches) for o in batch]
        finally:
            dispose_engines()

    assert not [o for o in outcomes if isinstance(o, BaseException)]  # no deadlock, no error
    assert outcomes.count("succeeded") == 48 and outcomes.count("failed") == 12
    assert outcomes.count("skipped") == 120
    run = run_row(engine, run_id)
    assert (run.jobs_processed, run.jobs_added, run.jobs_failed) == (60, 48, 12)
    assert run.status == "completed"
    assert [r.getMessage() for r in caplog.records].count(f"run {run_id} completed") == 1
    jobs = jobs_of(engine, user.id)
    assert len(jobs) == 48 and len({j.source_url for j in jobs}) == 48


def test_the_same_item_twice_in_one_batch_counts_once(engine, session, make_user):
    user = make_user()
    run_id, (a, b) = seed_run(session, user.id, [URL.format(1), URL.format(2)])

    outcomes = record_item_results([result(run_id, a, URL.format(1)), result(run_id, a, URL.format(1))])

    assert outcomes == ["succeeded", "skipped"]
    run = run_row(engine, run_id)
    assert (run.jobs_processed, run.jobs_added, run.status) == (1, 1, "ingesting")
    assert record_item_results([result(run_id, b, URL.format(2), fail=True)]) == ["failed"]
    assert run_row(engine, run_id).status == "completed"


def test_a_batch_for_a_run_that_is_not_ingesting_changes_nothing(engine, session, make_user):
    user = make_user()
    urls = [URL.format(i) for i in range(3)]
    run_id, item_ids = seed_run(session, user.id, urls)
    reset_run(session, user.id, run_id)

    outcomes = record_item_results([result(run_id, i, u) for i, u in zip(item_ids, urls, strict=True)])

    assert outcomes == ["skipped"] * 3
    run = run_row(engine, run_id)
    assert (run.jobs_processed, run.jobs_added, run.jobs_failed) == (0, 0, 0)
    assert {s for s, _ in item_states(engine, run_id).values()} == {"pending"}
    assert jobs_of(engine, user.id) == []


def test_a_batch_racing_with_a_reset_leaves_counters_matching_the_items(engine, session, make_user):
    user = make_user()
    urls = [URL.format(i) for i in range(100)]
    run_id, item_ids = seed_run(session, user.id, urls)
    batches = [
        [result(run_id, i, u, fail=i % 7 == 0) for i, u in zip(item_ids[s : s + 10], urls[s : s + 10], strict=True)]
        for s in range(0, 100, 10)
    ]
    started = threading.Event()

    def deliver(batch: list[ItemResult]) -> list:
        started.set()
        return record_item_results(batch)

    def reset_midway() -> None:
        started.wait()
        with type(session)(engine) as s:
            reset_run(s, user.id, run_id)

    resetter = threading.Thread(target=reset_midway)
    resetter.start()
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = [o for batch in pool.map(deliver, batches) for o in batch]
    resetter.join()

    run = run_row(engine, run_id)
    assert run.status == "failed"
    finished = [s for s, _ in item_states(engine, run_id).values() if s != "pending"]
    assert run.jobs_processed == len(finished) == outcomes.count("succeeded") + outcomes.count("failed")
    assert run.jobs_failed == outcomes.count("failed")
    assert len(jobs_of(engine, user.id)) == run.jobs_added == outcomes.count("succeeded")
    # Recording after the reset changes nothing.
    assert record_item_results(batches[-1]) == ["skipped"] * 10
    assert run_row(engine, run_id).jobs_processed == run.jobs_processed


def test_a_posting_the_database_refuses_becomes_a_failed_item_and_the_rest_of_the_batch_counts(
    engine, session, make_user
):
    user = make_user()
    urls = [URL.format(i) for i in range(4)]
    run_id, item_ids = seed_run(session, user.id, urls)
    results = [result(run_id, i, u) for i, u in zip(item_ids, urls, strict=True)]
    results[2].posting.salary_min = "not a number"  # the database refuses it

    outcomes = record_item_results(results)

    assert outcomes == ["succeeded", "succeeded", "failed", "succeeded"]
    run = run_row(engine, run_id)
    assert (run.jobs_processed, run.jobs_added, run.jobs_failed, run.status) == (4, 3, 1, "completed")
    state, error = item_states(engine, run_id)[urls[2]]
    assert state == "failed" and error.startswith("invalid_data:")


def test_batches_of_several_runs_are_each_recorded(engine, session, make_user):
    first_user, second_user = make_user(), make_user()
    run_a, items_a = seed_run(session, first_user.id, [URL.format(1), URL.format(2)])
    run_b, items_b = seed_run(session, second_user.id, [URL.format(1)])

    outcomes = record_item_results(
        [
            result(run_b, items_b[0], URL.format(1)),
            result(run_a, items_a[0], URL.format(1)),
            result(run_a, items_a[1], URL.format(2), fail=True),
        ]
    )

    assert outcomes == ["succeeded", "succeeded", "failed"]
    assert (run_row(engine, run_a).jobs_processed, run_row(engine, run_a).status) == (2, "completed")
    assert (run_row(engine, run_b).jobs_added, run_row(engine, run_b).status) == (1, "completed")


def test_an_unreachable_database_reports_every_record_of_the_batch(settings):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/ingest")
    bodies = [ItemMessage(run_id=1, item_id=i, url=URL.format(i), company="Acme") for i in (1, 2)]
    outcomes = process_items(bodies)
    recorded = record_item_results([result(1, 1, URL.format(1))])
    assert [type(o) for o, _ in outcomes] == [sa.exc.OperationalError] * 2
    assert isinstance(recorded[0], sa.exc.OperationalError)


def test_process_items_skips_closed_items_and_records_the_open_ones(engine, session, make_user):
    user = make_user()
    urls = [URL.format(i) for i in range(3)]
    run_id, item_ids = seed_run(session, user.id, urls)
    assert record_item_results([result(run_id, item_ids[0], urls[0])]) == ["succeeded"]
    crawled: list[str] = []

    def fake_crawl(body):
        crawled.append(body["url"])
        return (None, "not_found: HTTP 404") if body["url"] == urls[2] else (posting(body["url"]), None)

    bodies = [ItemMessage(run_id=run_id, item_id=i, url=u, company="Acme") for i, u in zip(item_ids, urls, strict=True)]
    bodies.append(ItemMessage(run_id=run_id + 1000, item_id=item_ids[1], url=urls[1]))  # wrong run

    outcomes = [o for o, _ in process_items(bodies, crawl_fn=fake_crawl)]

    assert outcomes == ["skipped", "succeeded", "failed", "skipped"]
    assert sorted(crawled) == sorted(urls[1:])  # the finished item was not fetched again
    run = run_row(engine, run_id)
    assert (run.jobs_processed, run.jobs_added, run.jobs_failed, run.status) == (3, 2, 1, "completed")


@pytest.mark.parametrize("size", [1, 10])
def test_process_items_with_a_thread_pool_map(engine, session, make_user, size):
    user = make_user()
    urls = [URL.format(i) for i in range(size)]
    run_id, item_ids = seed_run(session, user.id, urls)
    bodies = [ItemMessage(run_id=run_id, item_id=i, url=u) for i, u in zip(item_ids, urls, strict=True)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = process_items(bodies, map_fn=pool.map, crawl_fn=lambda body: (posting(body["url"]), None))

    assert [o for o, _ in outcomes] == ["succeeded"] * size
    assert all(seconds >= 0 for _, seconds in outcomes)
    assert run_row(engine, run_id).status == "completed"


def test_an_archived_job_listed_again_is_reactivated_by_a_batch_and_not_counted_as_added(engine, session, make_user):
    user = make_user()
    old, new = URL.format(1), URL.format(2)
    first_seen = add_archived_job(session, user.id, old)
    run_id, (old_item, new_item) = seed_run(session, user.id, [old, new])

    assert record_item_results([result(run_id, new_item, new), result(run_id, old_item, old)]) == ["succeeded"] * 2

    run = run_row(engine, run_id)
    assert (run.jobs_added, run.jobs_processed, run.status) == (1, 2, "completed")
    jobs = {j.source_url: j for j in jobs_of(engine, user.id)}
    assert jobs[old].status == "active" and jobs[old].archived_at is None and jobs[old].title == "Engineer"
    assert jobs[old].first_seen_at == first_seen and jobs[old].last_run_id == run_id


def test_an_infrastructure_error_while_crawling_reports_only_that_record(engine, session, make_user):
    user = make_user()
    urls = [URL.format(i) for i in range(3)]
    run_id, item_ids = seed_run(session, user.id, urls)
    down = sa.exc.OperationalError("SELECT 1", {}, Exception("connection lost"))

    def crawl(body):
        if body["url"] == urls[1]:
            raise down
        return posting(body["url"]), None

    bodies = [ItemMessage(run_id=run_id, item_id=i, url=u) for i, u in zip(item_ids, urls, strict=True)]

    outcomes = [o for o, _ in process_items(bodies, crawl_fn=crawl)]

    assert outcomes == ["succeeded", down, "succeeded"]
    assert item_states(engine, run_id)[urls[1]][0] == "pending"  # left for the redelivery
    assert run_row(engine, run_id).jobs_processed == 2
    again = process_items(bodies, crawl_fn=lambda body: (posting(body["url"]), None))
    assert [o for o, _ in again] == ["skipped", "succeeded", "skipped"]
    assert run_row(engine, run_id).status == "completed"


def test_a_lock_held_on_one_run_does_not_delay_recording_another_run_of_the_batch(engine, session, make_user, settings):
    import threading
    import time

    from ingest_app.core.models import IngestionRun

    runs = IngestionRun.__table__
    settings(WORKER_DB_LOCK_TIMEOUT_MS="1500")
    alice, bob = make_user(), make_user()
    run_a, items_a = seed_run(session, alice.id, [URL.format(1)])
    run_b, items_b = seed_run(session, bob.id, [URL.format(2)])
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with engine.connect() as conn, conn.begin():
            conn.execute(sa.select(runs.c.run_id).where(runs.c.run_id == run_a).with_for_update())
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    bob_recorded_after: list[float] = []
    started = time.monotonic()

    def watch_bob() -> None:
        while run_row(engine, run_b).status != "completed" and time.monotonic() - started < 5:
            time.sleep(0.02)
        bob_recorded_after.append(time.monotonic() - started)

    watcher = threading.Thread(target=watch_bob)
    watcher.start()
    try:
        outcomes = record_item_results(
            [result(run_a, items_a[0], URL.format(1)), result(run_b, items_b[0], URL.format(2))]
        )
    finally:
        release.set()
        holder.join(10)
        watcher.join(10)

    assert outcomes[1] == "succeeded"
    assert isinstance(outcomes[0], sa.exc.OperationalError) and "lock timeout" in str(outcomes[0])
    assert bob_recorded_after[0] < 1.0, f"bob's item waited {bob_recorded_after[0]:.1f} s behind alice's lock"
    assert run_row(engine, run_a).jobs_processed == 0  # nothing of it changed: its message comes back
    assert record_item_results([result(run_a, items_a[0], URL.format(1))]) == ["succeeded"]
