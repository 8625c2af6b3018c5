"""The stale detector's clock: a retry's heartbeat is the time of the claim (the database's), and
the end of its re-sending, so a slow cycle retries nobody twice and touches no other run; a retry
whose messages the queue refused is reported as the failure it is."""

from __future__ import annotations

import time
from datetime import timedelta

import sqlalchemy as sa

from ingest_app.core.models import IngestionRun, utcnow
from ingest_app.core.pipeline import ItemResult, detect_stale_runs, record_item_results
from tests.support.fleet import CollectingSend
from tests.support.runs import posting, run_row, seed_run

RUNS = IngestionRun.__table__
URLS = [f"https://jobs.example.com/acme/{i}" for i in range(4)]
THRESHOLD_SECONDS = 3.0


def _age(engine, run_id: int, seconds: float) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(RUNS).where(RUNS.c.run_id == run_id).values(last_heartbeat=utcnow() - timedelta(seconds=seconds))
        )


def test_a_slow_cycle_retries_no_run_twice_and_leaves_a_live_run_alone(engine, session, make_user, settings):
    settings(STALE_AFTER_MINUTES=str(THRESHOLD_SECONDS / 60))
    first, second, live = make_user(), make_user(), make_user()
    run_1, items_1 = seed_run(session, first.id, URLS)
    run_2, items_2 = seed_run(session, second.id, [u + "?b" for u in URLS])
    run_3, items_3 = seed_run(session, live.id, [u + "?c" for u in URLS])
    _age(engine, run_1, 60)
    _age(engine, run_2, 60)
    queue = CollectingSend()

    def slow_send(bodies):
        # Re-sending the first run's messages takes longer than the stale threshold; meanwhile
        # the live run's worker records an item (its heartbeat).
        if bodies[0].run_id == run_1:
            time.sleep(THRESHOLD_SECONDS + 0.5)
            assert record_item_results([ItemResult(run_3, items_3[0], "u", posting(URLS[0] + "?c"))]) == ["succeeded"]
        return queue(bodies)

    first_cycle = detect_stale_runs(send=slow_send)
    second_cycle = detect_stale_runs(send=slow_send)  # right after the slow one

    assert sorted((r["run_id"], r["action"]) for r in first_cycle) == [(run_1, "retried"), (run_2, "retried")]
    assert second_cycle == []
    assert (run_row(engine, run_1).retry_count, run_row(engine, run_2).retry_count) == (1, 1)
    assert sorted(queue.item_ids) == sorted(items_1 + items_2)  # each pending item re-sent once
    live_row = run_row(engine, run_3)
    assert (live_row.retry_count, live_row.status, live_row.jobs_processed) == (0, "ingesting", 1)
    assert run_3 not in {b["run_id"] for b in queue.bodies}


def test_a_retry_heartbeat_is_the_databases_time_at_the_claim_not_the_cycles(engine, session, make_user):
    user = make_user()
    run_id, _ = seed_run(session, user.id, URLS)
    _age(engine, run_id, 3600)
    cycle_start = utcnow() - timedelta(minutes=10)  # a cycle that began long ago (a slow one)

    reports = detect_stale_runs(cycle_start, send=CollectingSend())

    assert [r["action"] for r in reports] == ["retried"]
    with engine.connect() as conn:
        db_now = conn.execute(sa.select(sa.func.now())).scalar()
    heartbeat = run_row(engine, run_id).last_heartbeat
    assert (db_now - heartbeat).total_seconds() < 5, "the heartbeat carries the cycle's start time"
    assert detect_stale_runs(send=CollectingSend()) == []


def test_a_retry_whose_messages_the_queue_refuses_is_reported_failed_with_the_reason(engine, session, make_user):
    user = make_user()
    run_id, _ = seed_run(session, user.id, URLS)
    _age(engine, run_id, 3600)

    (report,) = detect_stale_runs(send=CollectingSend(fail=True))

    assert report["action"] == "failed"
    assert report["resent"] == 0 and report["retry_count"] == 1
    assert report["reason"].startswith("Could not enqueue 4 of 4 jobs") and "queue unreachable" in report["reason"]
    assert run_row(engine, run_id).status == "failed"


def test_a_run_locked_elsewhere_does_not_hold_the_detector_back_from_other_runs(engine, session, make_user, settings):
    import threading

    settings(WORKER_DB_LOCK_TIMEOUT_MS="300")
    locked_user, other_user = make_user(), make_user()
    locked, _ = seed_run(session, locked_user.id, URLS)
    other, other_items = seed_run(session, other_user.id, [u + "?o" for u in URLS])
    _age(engine, locked, 3600)
    _age(engine, other, 3600)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with engine.connect() as conn, conn.begin():
            conn.execute(sa.select(RUNS.c.run_id).where(RUNS.c.run_id == locked).with_for_update())
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    queue = CollectingSend()
    started = time.monotonic()
    try:
        reports = detect_stale_runs(send=queue)
    finally:
        took = time.monotonic() - started
        release.set()
        holder.join(10)

    assert [(r["run_id"], r["action"]) for r in reports] == [(other, "retried")]
    assert took < 3, f"the detector waited {took:.1f} s behind the lock"
    assert sorted(queue.item_ids) == sorted(other_items)
    assert run_row(engine, locked).retry_count == 0  # left for the next cycle
