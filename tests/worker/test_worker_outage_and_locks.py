"""Liveness on the real PostgreSQL and the real local queue: a database outage delays a run by
about the outage, not the 30-minute visibility timeout; a run row lock held elsewhere never stops
another user's run; a worker transaction left idle is ended by the server."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from ingest_app.core import queue as q
from ingest_app.core.models import IngestionRun
from tests.support.emulator import make_test_queue
from tests.support.pages import PageServer
from tests.support.runs import counters, item_bodies, posting, seed_run
from tests.support.settings import apply_env
from tests.support.tcp_proxy import database_proxy
from tests.support.worker import read_metrics, start_worker, stop_worker

RUNS = IngestionRun.__table__
# Production's visibility timeout: a message reported as failed and not given back early would
# stay invisible for 30 minutes.
PRODUCTION_VISIBILITY = 1800
FAST_RETRY = {
    "WORKER_RETRY_DELAY_SECONDS": "1",
    "WORKER_RETRY_DELAY_MAX_SECONDS": "4",
    "WORKER_DB_PROBE_SECONDS": "0.5",
}


def _wait_for(predicate, timeout: float, interval: float = 0.1) -> float:
    """Seconds until `predicate()` held; AssertionError after `timeout`."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not reached within {timeout} s")
        time.sleep(interval)
    return time.monotonic() - started


@pytest.fixture
def production_queue(sqs_emulator):
    queue, previous = make_test_queue(sqs_emulator, visibility_timeout=PRODUCTION_VISIBILITY)
    try:
        yield queue
    finally:
        apply_env(previous)


@pytest.mark.slow
def test_a_database_outage_delays_a_run_by_seconds_not_the_visibility_timeout(
    session, engine, make_user, page_server: PageServer, production_queue, tmp_path: Path, record_property
) -> None:
    user = make_user()
    urls = [page_server.slow_url(n, seconds=0.3) for n in range(40)]
    run_id, _ = seed_run(session, user.id, urls)
    outage = 6.0
    with database_proxy(os.environ["DATABASE_URL"]) as proxy:
        metrics = tmp_path / "metrics.json"
        worker = start_worker(
            env={"DATABASE_URL": proxy.url(os.environ["DATABASE_URL"]), **FAST_RETRY},
            concurrency=2,
            metrics_file=metrics,
            log_path=tmp_path / "worker.log",
        )
        try:
            q.send_messages(item_bodies(session, run_id))
            _wait_for(lambda: counters(engine, run_id)["jobs_processed"] >= 5, 30)
            proxy.close()  # the database is gone for the workers (the test still reaches it)
            time.sleep(outage)
            stalled_at = counters(engine, run_id)["jobs_processed"]
            proxy.open()
            recovered = _wait_for(lambda: counters(engine, run_id)["status"] == "completed", 60)
        finally:
            assert stop_worker(worker) == 0
    stats = read_metrics(metrics)
    record_property("seconds_to_complete_after_the_outage", round(recovered, 1))
    record_property("received", stats["received"])
    assert stalled_at < 40, "the outage came too late to matter"
    # Every message given back during the outage returned within seconds of the database.
    assert recovered < 20, f"the run needed {recovered:.1f} s after the database came back"
    assert counters(engine, run_id) == {
        "status": "completed",
        "total_jobs_found": 40,
        "jobs_processed": 40,
        "jobs_added": 40,
        "jobs_failed": 0,
        "jobs_archived": 0,
    }
    assert stats["db_pauses"] >= 1 and stats["paused_seconds"] > 0
    # It stopped receiving while the database was down instead of draining the queue into failures.
    assert stats["received"] < 80, stats
    assert production_queue.depths()["dlq"]["visible"] == 0


def _hold_run_lock(engine, run_id: int, release: threading.Event, held: threading.Event) -> None:
    """Another session holds the run's row lock (a frozen recorder, an operator's open transaction)."""
    with engine.connect() as conn:
        with conn.begin():
            conn.execute(sa.select(RUNS.c.run_id).where(RUNS.c.run_id == run_id).with_for_update())
            held.set()
            release.wait(60)


@pytest.mark.slow
def test_a_run_row_lock_held_elsewhere_does_not_stop_another_users_run(
    session, engine, make_user, page_server: PageServer, production_queue, tmp_path: Path, record_property
) -> None:
    alice, bob = make_user(), make_user()
    run_a, _ = seed_run(session, alice.id, [page_server.url(n) for n in range(20)])
    run_b, _ = seed_run(session, bob.id, [page_server.url(n) for n in range(100, 120)])
    bodies_a, bodies_b = item_bodies(session, run_a), item_bodies(session, run_b)
    interleaved = [body for pair in zip(bodies_a, bodies_b, strict=True) for body in pair]
    release, held = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_run_lock, args=(engine, run_a, release, held))
    holder.start()
    assert held.wait(10)
    worker = start_worker(
        env={"WORKER_DB_LOCK_TIMEOUT_MS": "500", **FAST_RETRY},
        concurrency=2,
        log_path=tmp_path / "worker.log",
    )
    try:
        q.send_messages(interleaved)
        b_done = _wait_for(lambda: counters(engine, run_b)["status"] == "completed", 20)
        assert counters(engine, run_a)["jobs_processed"] == 0  # still held: nothing of it moved
        release.set()
        holder.join(10)
        a_done = _wait_for(lambda: counters(engine, run_a)["status"] == "completed", 30)
    finally:
        release.set()
        holder.join(10)
        assert stop_worker(worker) == 0
    record_property("other_run_seconds_while_locked", round(b_done, 1))
    record_property("locked_run_seconds_after_release", round(a_done, 1))
    assert b_done < 15, f"bob's run took {b_done:.1f} s while alice's row was locked"
    assert a_done < 20, f"alice's run took {a_done:.1f} s after the lock was released"
    for run_id in (run_a, run_b):
        assert counters(engine, run_id) == {
            "status": "completed",
            "total_jobs_found": 20,
            "jobs_processed": 20,
            "jobs_added": 20,
            "jobs_failed": 0,
            "jobs_archived": 0,
        }
    assert production_queue.depths()["dlq"]["visible"] == 0


def test_a_worker_transaction_left_idle_is_ended_and_its_lock_released(session, engine, make_user, settings) -> None:
    from ingest_app.core.db import worker_transaction
    from ingest_app.core.pipeline import record_item_results

    settings(WORKER_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS="1000", WORKER_DB_LOCK_TIMEOUT_MS="10000")
    user = make_user()
    run_id, (item_id,) = seed_run(session, user.id, ["https://jobs.example.com/1"])
    frozen = engine.connect()
    frozen.begin()
    worker_transaction(frozen)  # a worker that froze (SIGSTOP, a partition) holding the run row
    frozen.execute(sa.update(RUNS).where(RUNS.c.run_id == run_id).values(last_heartbeat=RUNS.c.last_heartbeat))
    started = time.monotonic()
    try:
        from ingest_app.core.pipeline import ItemResult

        outcome = record_item_results([ItemResult(run_id, item_id, "u", posting("https://jobs.example.com/1"))])
        waited = time.monotonic() - started
        with pytest.raises(sa.exc.OperationalError):
            frozen.execute(sa.text("SELECT 1"))
    finally:
        frozen.invalidate()
        frozen.close()
    assert outcome == ["succeeded"]
    assert 0.5 < waited < 5, f"waited {waited:.1f} s for the frozen transaction"
    assert counters(engine, run_id)["status"] == "completed"


def test_worker_sessions_carry_keepalives_and_timeouts(engine) -> None:
    import socket

    from ingest_app.core.db import worker_transaction

    names = ("lock_timeout", "statement_timeout", "idle_in_transaction_session_timeout")
    with engine.connect() as conn:
        conn.begin()
        worker_transaction(conn)
        values = {name: conn.exec_driver_sql(f"SHOW {name}").scalar() for name in names}
        conn.rollback()
        after = conn.exec_driver_sql("SHOW lock_timeout").scalar()
        # The client's socket: a dead server is noticed after ~1 minute, not the kernel's 2 hours.
        sock = socket.socket(fileno=os.dup(conn.connection.dbapi_connection.fileno()))
        try:
            keepalive = sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
            idle = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE)
            count = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT)
        finally:
            sock.close()  # the duplicate only
    assert values == {"lock_timeout": "3s", "statement_timeout": "2min", "idle_in_transaction_session_timeout": "1min"}
    assert after == "0"  # only the worker's transaction has them, not the next user of the connection
    assert (keepalive, idle, count) == (1, 30, 3)
