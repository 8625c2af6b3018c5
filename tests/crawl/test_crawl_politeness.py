"""The fleet's per-host budget on PostgreSQL: worker processes fetching from one local server never
have more than CRAWLER_PER_HOST_CONCURRENCY requests in flight there, a 429 with Retry-After
seen by one process pauses the host for the others, and a killed holder's slot expires."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

import pytest
import sqlalchemy as sa

from ingest_app.core.crawl.politeness import FleetBudget, HostBusy
from tests.support.fixture_server import FixtureServer

LIMIT = 3


def _counting_server(hold: float = 0.08):
    """A local server recording the most requests it had in flight at once, and the times of
    the requests after a 429 it answered (with Retry-After) on /throttle."""
    state = {"now": 0, "max": 0, "total": 0, "throttled_at": None, "after": []}
    lock = threading.Lock()

    def count(h) -> None:
        with lock:
            state["now"] += 1
            state["total"] += 1
            state["max"] = max(state["max"], state["now"])
            if state["throttled_at"] is not None:
                state["after"].append(time.monotonic())
        try:
            if h.path.startswith("/throttle"):
                with lock:
                    state["throttled_at"] = time.monotonic()
                h.send_body(429, b"slow down", "application/json", {"Retry-After": "2"})
            else:
                time.sleep(hold)
                h.send_body(200, b"{}", "application/json")
        finally:
            with lock:
                state["now"] -= 1

    return FixtureServer(fallback=count), state


def _worker(base: str, requests: int, threads: int, start_at: float) -> None:
    """One worker process: its own fleet budget, `threads` threads fetching from `base`."""
    from ingest_app.core.crawl import http, politeness
    from tests.support.settings import apply_env

    apply_env({"CRAWLER_PER_HOST_CONCURRENCY": LIMIT, "CRAWLER_HOST_BUDGET": "fleet", "CRAWLER_SLOT_WAIT_SECONDS": 30})
    politeness.set_budget(politeness.budget_from_settings())
    while time.time() < start_at:
        time.sleep(0.005)

    def run(n: int) -> None:
        for i in range(n):
            http.fetch(f"{base}/job/{os.getpid()}-{i}", accept=None, retries=0)

    pool = [threading.Thread(target=run, args=(requests,)) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


@pytest.fixture
def leases(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM host_leases"))
        conn.execute(sa.text("DELETE FROM host_pauses"))
    yield
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM host_leases"))
        conn.execute(sa.text("DELETE FROM host_pauses"))


@pytest.mark.parametrize("processes", [2, 4])
def test_worker_processes_never_exceed_the_per_host_limit(leases, processes):
    server, state = _counting_server()
    base = server.base_url
    ctx = multiprocessing.get_context("spawn")
    start_at = time.time() + 3.0  # every process imported and ready: they start together
    workers = [ctx.Process(target=_worker, args=(base, 4, 3, start_at)) for _ in range(processes)]
    try:
        for p in workers:
            p.start()
        for p in workers:
            p.join(120)
        assert [p.exitcode for p in workers] == [0] * processes
    finally:
        for p in workers:
            if p.is_alive():
                p.kill()
        server.stop()
    assert state["total"] == processes * 4 * 3
    # 3 threads per process: without the shared budget up to 3 x processes would be in flight.
    assert state["max"] == LIMIT


def test_a_429_with_retry_after_pauses_the_host_for_the_other_process(leases, settings):
    from ingest_app.core.crawl import http, politeness
    from ingest_app.core.crawl.types import CrawlError

    server, state = _counting_server()
    base = server.base_url
    settings(CRAWLER_MAX_RETRY_AFTER=1)  # this fetch itself gives up at once
    previous = politeness.set_budget(FleetBudget())
    try:
        with pytest.raises(CrawlError) as err:
            http.fetch(f"{base}/throttle", accept=None, retries=0)
        assert err.value.kind == "http_429"
        # Another process (its own budget and pool) asks for the same host: it waits out the pause.
        ctx = multiprocessing.get_context("spawn")
        other = ctx.Process(target=_worker, args=(base, 1, 1, 0.0))
        other.start()
        other.join(60)
        assert other.exitcode == 0
    finally:
        politeness.set_budget(previous)
        server.stop()
    assert len(state["after"]) == 1
    assert state["after"][0] - state["throttled_at"] >= 1.9  # Retry-After: 2


def test_a_paused_host_gives_no_slot_within_the_wait_and_says_how_long(leases):
    budget = FleetBudget()
    budget.pause("pause.example:443", 30, "HTTP 503")
    other = FleetBudget()  # another process's view
    started = time.monotonic()
    with pytest.raises(HostBusy) as busy:
        other.acquire("pause.example:443", LIMIT, timeout=0.5)
    assert time.monotonic() - started < 0.4  # no point waiting: the pause outlasts the wait
    assert 25 < busy.value.retry_in <= 30


def test_a_dead_holders_lease_expires_and_a_release_frees_at_once(leases, engine):
    dead, alive = FleetBudget(), FleetBudget()
    held = [dead.acquire("slots.example:443", 1, timeout=1.0)]
    with pytest.raises(HostBusy):
        alive.acquire("slots.example:443", 1, timeout=0.3)
    # The holder is SIGKILLed: it never releases. Its lease runs out (made short here).
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE host_leases SET expires_at = now() - interval '1 second'"))
    lease = alive.acquire("slots.example:443", 1, timeout=1.0)
    assert lease.holder != held[0].holder
    alive.release(lease, 1)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM host_leases WHERE holder IS NOT NULL")).scalar() == 0
    dead.dispose()
    alive.dispose()


def test_release_survives_a_dropped_connection(leases, engine):
    budget = FleetBudget()
    lease = budget.acquire("drop.example:443", 1, timeout=1.0)
    with engine.connect() as conn:  # the server drops every connection of the budget's pool
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle'"
            )
        )
    budget.release(lease, 1)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM host_leases WHERE holder IS NOT NULL")).scalar() == 0
    budget.dispose()


def test_threads_of_one_process_hand_slots_over_without_exceeding_the_limit(leases, engine):
    budget = FleetBudget()
    takes = []
    real_take = budget._try_take

    def counting_take(*args):
        result = real_take(*args)
        if result[0] is not None:
            takes.append(1)
        return result

    budget._try_take = counting_take
    state = {"now": 0, "max": 0}
    lock = threading.Lock()

    def run() -> None:
        for _ in range(10):
            lease = budget.acquire("handoff.example:443", 2, timeout=10.0)
            with lock:
                state["now"] += 1
                state["max"] = max(state["max"], state["now"])
            time.sleep(0.01)
            with lock:
                state["now"] -= 1
            budget.release(lease, 2)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert state["max"] == 2
    assert len(takes) < 60  # most slots went from thread to thread, not through the database
    with engine.connect() as conn:  # nobody waits any more: every slot is free again
        assert conn.execute(sa.text("SELECT count(*) FROM host_leases WHERE holder IS NOT NULL")).scalar() == 0
    budget.dispose()
