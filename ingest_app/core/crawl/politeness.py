"""The per-host politeness budget the fetcher takes a slot from before every request.

Two implementations of one small interface (`acquire`, `release`, `observe`):

- `ProcessBudget`: a semaphore per host in this process (`CRAWLER_HOST_BUDGET=process`). Cheap;
  the limit holds per worker process only, so N processes may have N x the limit in flight.
- `FleetBudget` (`CRAWLER_HOST_BUDGET=fleet`): the limit holds across every worker process and
  Lambda. PostgreSQL rows `host_leases(host, slot)` for slots 0..limit-1; taking a slot is one
  `UPDATE ... WHERE holder IS NULL OR expires_at < now() ... FOR UPDATE SKIP LOCKED` (a leased
  slot of a SIGKILLed worker frees itself when its lease expires), giving it back one UPDATE.
  A host paused by Retry-After or repeated 429/503 (`host_pauses.paused_until`) gives no slot to
  anyone until the pause ends; an optional rate (`CRAWLER_PER_HOST_RPS`) spaces request starts
  through `host_pauses.next_start_at`. Threads of one process never queue on the database: at
  most the limit of them hold or ask for a lease, the others wait in line in the process, and a
  lease given back while a thread of the process waits for that host is handed to it directly
  (no database round trip), for `LEASE_HANDOFF_SECONDS` after it was taken.

A slot not obtained within `CRAWLER_SLOT_WAIT_SECONDS` (or the fetch deadline) raises `HostBusy`,
which is not a crawl failure: the worker gives the message back to the queue instead of holding
a Lambda idle, and previews report it as a timeout.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass

import sqlalchemy as sa

from ingest_app.core.settings import get_settings

log = logging.getLogger(__name__)

_PAUSE_STATUSES = (429, 503)


class HostBusy(RuntimeError):
    """No slot for this host in time (it is busy or paused): retry the work later."""

    def __init__(self, host: str, reason: str, retry_in: float = 0.0):
        super().__init__(f"{host}: {reason}")
        self.host = host
        self.reason = reason
        self.retry_in = retry_in


@dataclass(frozen=True)
class Lease:
    host: str
    slot: int | None = None  # the fleet slot; None for a process-only lease
    holder: str | None = None
    taken_at: float = 0.0  # time.monotonic() when the fleet slot was taken


class ProcessBudget:
    """Per-process slots and pauses (the default for local development)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[tuple[str, int], threading.BoundedSemaphore] = {}
        self._paused: dict[str, float] = {}  # host -> time.monotonic() the pause ends

    def _semaphore(self, host: str, limit: int) -> threading.BoundedSemaphore:
        key = (host, max(1, limit))
        with self._lock:
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = threading.BoundedSemaphore(key[1])
            return slot

    def paused_for(self, host: str) -> float:
        with self._lock:
            until = self._paused.get(host)
        return 0.0 if until is None else max(0.0, until - time.monotonic())

    def acquire(self, host: str, limit: int, timeout: float) -> Lease:
        wait = self.paused_for(host)
        if wait > 0:
            if wait >= timeout:
                raise HostBusy(host, f"the site asked us to wait {wait:.0f} s", retry_in=wait)
            time.sleep(wait)
            timeout -= wait
        if not self._semaphore(host, limit).acquire(timeout=max(0.0, timeout)):
            raise HostBusy(host, "too many requests to this site are under way; gave up waiting", retry_in=1.0)
        return Lease(host)

    def release(self, lease: Lease, limit: int) -> None:
        self._semaphore(lease.host, limit).release()

    def pause(self, host: str, seconds: float, reason: str) -> None:
        with self._lock:
            until = time.monotonic() + seconds
            self._paused[host] = max(until, self._paused.get(host, 0.0))
        log.info("pausing %s for %.0f s (%s)", host, seconds, reason)

    def observe(self, host: str, status: int, retry_after: float | None) -> None:
        """Per process, the fetch's own backoff (honoring Retry-After) is the whole answer to a
        429/503; only the fleet budget turns them into a pause for every worker."""


def _pause_seconds(strikes: dict[str, int], lock: threading.Lock, host: str, status: int, retry_after: float | None):
    s = get_settings()
    with lock:
        if status not in _PAUSE_STATUSES:
            strikes.pop(host, None)
            return 0.0
        strikes[host] = strikes.get(host, 0) + 1
        count = strikes[host]
        if retry_after is None and count < s.crawler_host_pause_after:
            return 0.0
        strikes[host] = 0
    seconds = retry_after if retry_after is not None else s.crawler_host_pause_seconds
    return min(max(seconds, 0.0), s.crawler_max_retry_after * 4)


_ENSURE_SLOTS = sa.text(
    "INSERT INTO host_leases (host, slot) SELECT :host, s FROM generate_series(0, :limit - 1) AS s "
    "ON CONFLICT DO NOTHING"
)
# One statement (one round trip) takes a free slot unless the host is paused (or its next start
# lies ahead), and says how long the pause or the spacing lasts when it takes none.
_TAKE = sa.text(
    """
    WITH pause AS (
        SELECT paused_until, next_start_at FROM host_pauses WHERE host = :host
    ), taken AS (
        UPDATE host_leases SET holder = :holder, expires_at = now() + make_interval(secs => :ttl)
        WHERE (host, slot) = (
            SELECT host, slot FROM host_leases
            WHERE host = :host AND slot < :limit AND (holder IS NULL OR expires_at < now())
              AND NOT EXISTS (SELECT 1 FROM pause WHERE paused_until > now() OR next_start_at > now())
            ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING slot
    )
    SELECT (SELECT slot FROM taken) AS slot,
        (SELECT EXTRACT(EPOCH FROM (greatest(paused_until, next_start_at) - now())) FROM pause) AS wait,
        (SELECT paused_until > now() FROM pause) AS paused
    """
)
_SPACE = sa.text(
    "INSERT INTO host_pauses (host, next_start_at) VALUES (:host, now() + make_interval(secs => :gap)) "
    "ON CONFLICT (host) DO UPDATE SET next_start_at = greatest(host_pauses.next_start_at, now()) "
    "+ make_interval(secs => :gap)"
)
_RELEASE = sa.text(
    "UPDATE host_leases SET holder = NULL, expires_at = NULL WHERE host = :host AND slot = :slot AND holder = :holder"
)
_PAUSE = sa.text(
    "INSERT INTO host_pauses (host, paused_until, reason) "
    "VALUES (:host, now() + make_interval(secs => :secs), :reason) "
    "ON CONFLICT (host) DO UPDATE SET paused_until = greatest(host_pauses.paused_until, EXCLUDED.paused_until), "
    "reason = EXCLUDED.reason"
)

# A lease given back while another thread of this process waits for the same host goes to that
# thread without a database round trip, while it is younger than this: its expiry was set this
# much later than one request needs, so the next request is still covered. Then it goes back to
# the database (where other processes can take it), and a pause set by another process is seen
# by this one within this time.
LEASE_HANDOFF_SECONDS = 2.0


class _Waiter:
    """A thread waiting for a lease to be handed over (`event` set: `lease`, or None when it was
    given a share instead and asks the database itself)."""

    __slots__ = ("event", "has_share", "lease")

    def __init__(self, has_share: bool) -> None:
        self.event = threading.Event()
        self.has_share = has_share
        self.lease: Lease | None = None


class _HostLine:
    """This process's threads for one host and limit: `share` of them hold a fleet lease or ask the
    database for one (at most the limit: the fleet has no more slots), the others wait in
    `waiting`; `polling` are sharers sleeping between two database attempts."""

    __slots__ = ("polling", "share", "waiting")

    def __init__(self) -> None:
        self.share = 0
        self.waiting: deque[_Waiter] = deque()
        self.polling: deque[_Waiter] = deque()


class FleetBudget:
    """Slots and pauses shared by every process through PostgreSQL (see the module docstring).

    Uses its own small engine in autocommit with `synchronous_commit=off` (a lease lost in a
    database crash frees the slot early, nothing else), so a lease never waits for a WAL flush
    nor for a connection of the recording pool. No ping before each use: a dropped connection
    fails the statement, and the pool is disposed and the statement tried once more."""

    def __init__(self, database_url: str | None = None, *, pool_size: int = 4) -> None:
        self._url = database_url or get_settings().database_url
        self._pool_size = pool_size
        self._engine: sa.Engine | None = None
        self._engine_lock = threading.Lock()
        self._local = ProcessBudget()
        self._ensured: set[tuple[str, int]] = set()
        self._strikes: dict[str, int] = {}
        self._strike_lock = threading.Lock()
        self._lines: dict[tuple[str, int], _HostLine] = {}
        self._lines_lock = threading.Lock()
        self.holder_prefix = uuid.uuid4().hex[:16]

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    engine = sa.create_engine(
                        self._url,
                        isolation_level="AUTOCOMMIT",
                        pool_size=self._pool_size,
                        max_overflow=self._pool_size,
                        connect_args={"connect_timeout": 5, "options": "-c synchronous_commit=off"},
                    )
                    self._engine = engine
        return self._engine

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def _execute(self, run):
        """`run(conn)` on a pooled connection; a connection error disposes the pool and runs it
        once more on a new connection."""
        from ingest_app.core.db import is_connection_error

        for attempt in (1, 2):
            try:
                with self.engine.connect() as conn:
                    return run(conn)
            except sa.exc.DBAPIError as exc:
                if attempt == 2 or not is_connection_error(exc):
                    raise
                self.dispose()
        raise AssertionError("unreachable")

    def _ensure(self, conn: sa.Connection, host: str, limit: int) -> None:
        if (host, limit) not in self._ensured:
            conn.execute(_ENSURE_SLOTS, {"host": host, "limit": limit})
            self._ensured.add((host, limit))

    def _try_take(self, host: str, limit: int, ttl: float) -> tuple[Lease | None, float, bool]:
        """(lease, seconds to wait before trying again, paused)."""
        holder = f"{self.holder_prefix}-{threading.get_ident()}"
        rps = get_settings().crawler_per_host_rps

        def take(conn: sa.Connection):
            self._ensure(conn, host, limit)
            row = conn.execute(_TAKE, {"holder": holder, "ttl": ttl, "host": host, "limit": limit}).first()
            if row.slot is not None and rps > 0:
                conn.execute(_SPACE, {"host": host, "gap": 1.0 / rps})
            return row

        taken_at = time.monotonic()
        row = self._execute(take)
        if row.slot is not None:
            return Lease(host, row.slot, holder, taken_at), 0.0, False
        if row.wait is not None and row.wait > 0:
            return None, float(row.wait), bool(row.paused)
        return None, 0.0, False

    def _line(self, host: str, limit: int) -> _HostLine:
        line = self._lines.get((host, limit))
        if line is None:
            line = self._lines[(host, limit)] = _HostLine()
        return line

    def _wait_handoff(self, line: _HostLine, waiter: _Waiter, seconds: float) -> bool:
        """Wait up to `seconds` for a lease or a share handed to `waiter` (queued by the caller)."""
        waiter.event.wait(max(0.0, seconds))
        with self._lines_lock:
            if waiter.event.is_set():
                return True
            queue = line.polling if waiter.has_share else line.waiting
            queue.remove(waiter)
            return False

    def _drop_share(self, line: _HostLine) -> None:
        """A sharer leaves without a lease to hand over: its share goes to the first waiting thread."""
        with self._lines_lock:
            if line.waiting:
                waiter = line.waiting.popleft()
                waiter.event.set()  # it asks the database itself, with this share
            else:
                line.share -= 1

    def acquire(self, host: str, limit: int, timeout: float) -> Lease:
        limit = max(1, limit)
        started = time.monotonic()
        paused = self._local.paused_for(host)  # a pause this process saw itself
        if paused > 0:
            if paused >= timeout:
                raise HostBusy(host, f"the site asked us to wait {paused:.0f} s", retry_in=paused)
            time.sleep(paused)
        with self._lines_lock:
            line = self._line(host, limit)
            waiter = None
            if line.share < limit:
                line.share += 1
            else:
                waiter = _Waiter(has_share=False)
                line.waiting.append(waiter)
        if waiter is not None:
            if not self._wait_handoff(line, waiter, timeout - (time.monotonic() - started)):
                raise HostBusy(host, "too many requests to this site are under way; gave up waiting", retry_in=1.0)
            if waiter.lease is not None:
                return waiter.lease
        try:
            return self._take(host, limit, timeout, started, line)
        except BaseException:
            self._drop_share(line)
            raise

    def _take(self, host: str, limit: int, timeout: float, started: float, line: _HostLine) -> Lease:
        """Ask the database for a slot until one is had (or handed over by a thread of this
        process) or the time is up, backing off between attempts (HostBusy then)."""
        backoff = 0.01
        while True:
            left = timeout - (time.monotonic() - started)
            # Outlives any request, and one more handed over while the lease is young.
            ttl = max(left, 0.0) + get_settings().crawler_total_timeout + LEASE_HANDOFF_SECONDS
            lease, wait, paused = self._try_take(host, limit, ttl)
            if lease is not None:
                return lease
            if paused and wait >= left:
                raise HostBusy(host, f"the site asked us to wait {wait:.0f} s", retry_in=wait)
            delay = wait if wait > 0 else backoff * (0.5 + random.random())
            if delay >= left:
                raise HostBusy(host, "too many requests to this site are under way; gave up waiting", retry_in=1.0)
            waiter = _Waiter(has_share=True)
            with self._lines_lock:
                # The pollers of one host take turns: together they ask the database about as
                # often as one would (slots freed in this process come by hand-over anyway).
                delay = min(delay * (1 + len(line.polling)), left)
                line.polling.append(waiter)
            if self._wait_handoff(line, waiter, delay):
                assert waiter.lease is not None
                return waiter.lease
            backoff = min(backoff * 2, 0.2)

    def _hand_over(self, lease: Lease, limit: int) -> bool:
        """Give a young lease straight to a thread of this process waiting for its host."""
        if time.monotonic() - lease.taken_at >= LEASE_HANDOFF_SECONDS or get_settings().crawler_per_host_rps > 0:
            return False  # spaced starts go through the database every time
        if self._local.paused_for(lease.host) > 0:
            return False
        with self._lines_lock:
            line = self._line(lease.host, max(1, limit))
            if line.waiting:  # the releaser's share goes with the lease
                waiter = line.waiting.popleft()
            elif line.polling:  # it had a share already: the releaser's ends
                waiter = line.polling.popleft()
                line.share -= 1
            else:
                return False
            waiter.lease = lease
            waiter.event.set()
        return True

    def release(self, lease: Lease, limit: int) -> None:
        """Hand the slot to a thread of this process waiting for the host, or free it in the
        database: on a connection error the pool is disposed and the release tried once more; if
        that fails too the lease expires on its own."""
        if self._hand_over(lease, limit):
            return
        try:
            self._execute(
                lambda conn: conn.execute(_RELEASE, {"host": lease.host, "slot": lease.slot, "holder": lease.holder})
            )
        except sa.exc.DBAPIError as exc:
            log.warning("could not release the slot of %s; it expires on its own: %s", lease.host, exc)
        finally:
            with self._lines_lock:
                line = self._line(lease.host, max(1, limit))
            self._drop_share(line)

    def pause(self, host: str, seconds: float, reason: str) -> None:
        self._local.pause(host, seconds, reason)
        try:
            self._execute(lambda conn: conn.execute(_PAUSE, {"host": host, "secs": seconds, "reason": reason[:200]}))
        except sa.exc.DBAPIError as exc:
            log.warning("could not share the pause of %s: %s", host, exc)

    def observe(self, host: str, status: int, retry_after: float | None) -> None:
        """Called with every answer's status: a Retry-After on a 429/503, or
        `crawler_host_pause_after` such answers in a row, pause the host for every worker."""
        seconds = _pause_seconds(self._strikes, self._strike_lock, host, status, retry_after)
        if seconds:
            self.pause(host, seconds, f"HTTP {status}")


Budget = ProcessBudget | FleetBudget

_budget: Budget | None = None
_budget_lock = threading.Lock()


def budget_from_settings() -> Budget:
    s = get_settings()
    if s.crawler_host_budget == "fleet":
        if s.database_url.startswith("postgresql"):
            return FleetBudget(s.database_url)
        log.warning("CRAWLER_HOST_BUDGET=fleet needs PostgreSQL; using the per-process budget")
    return ProcessBudget()


def get_budget() -> Budget:
    global _budget
    if _budget is None:
        with _budget_lock:
            if _budget is None:
                _budget = budget_from_settings()
    return _budget


def set_budget(budget: Budget | None) -> Budget | None:
    """Inject the budget the fetcher uses (None: back to the settings' choice); the previous one."""
    global _budget
    with _budget_lock:
        previous, _budget = _budget, budget
    return previous
