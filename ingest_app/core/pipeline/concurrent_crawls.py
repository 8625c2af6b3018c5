"""Crawling a batch's items concurrently, each within its own deadline, and handing back the
finished ones in groups as they finish (`crawl_as_completed`), so each group can be recorded
without waiting for the slowest page. pipeline/process.py records them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Executor, Future, wait
from typing import Any

from ingest_app.core.crawl.types import Posting

log = logging.getLogger(__name__)


class ItemDeferred(RuntimeError):
    """An item of the batch that was not crawled before the invocation's time ran out: nothing of it
    changed; its message should come back."""


CrawlResult = tuple[Posting | None, str | None, BaseException | None]


def _timeout_error(seconds: float) -> str:
    return f"timeout: crawling the page took longer than the worker's {seconds:g} s limit per item"


class _Slots:
    """At most `limit` crawls of one batch at once. A crawl given up on frees its slot at once
    (its thread may still be waiting on the page); its own release later is then a no-op."""

    def __init__(self, limit: int) -> None:
        self._semaphore = threading.Semaphore(limit)
        self._lock = threading.Lock()
        self._held: set[int] = set()
        self.abandoned: set[int] = set()
        self.started: dict[int, float] = {}

    def enter(self, key: int) -> bool:
        self._semaphore.acquire()
        with self._lock:
            if key in self.abandoned:
                self._semaphore.release()
                return False
            self._held.add(key)
            self.started[key] = time.monotonic()
            return True

    def leave(self, key: int) -> None:
        with self._lock:
            if key in self._held:
                self._held.discard(key)
                self._semaphore.release()

    def abandon(self, key: int) -> None:
        with self._lock:
            self.abandoned.add(key)
        self.leave(key)


def crawl_as_completed(
    executor: Executor,
    bodies: list[dict[str, Any]],
    crawl: Callable[[dict[str, Any]], CrawlResult],
    *,
    concurrency: int,
    item_timeout: float,
    deadline: float | None = None,
    linger: float = 0.05,
) -> Iterator[list[tuple[int, CrawlResult]]]:
    """Crawl `bodies` in `executor` (at most `concurrency` at once) and yield groups of
    (position, result) as they finish, so each group can be recorded without waiting for the
    slowest page. A crawl running longer than `item_timeout` seconds is given up: it yields a
    failed result with a timeout error. At `deadline` (time.monotonic()) every crawl still running
    is given up the same way, and those not started yield an ItemDeferred exception."""
    slots = _Slots(max(1, concurrency))

    def run(position: int, body: dict[str, Any]) -> CrawlResult | None:
        if not slots.enter(position):
            return None
        try:
            return crawl(body)
        finally:
            slots.leave(position)

    futures: dict[Future, int] = {executor.submit(run, i, body): i for i, body in enumerate(bodies)}
    pending = set(futures)
    while pending:
        now = time.monotonic()
        wakes = [slots.started[futures[f]] + item_timeout for f in pending if futures[f] in slots.started]
        if deadline is not None:
            wakes.append(deadline)
        if len(wakes) < len(pending):  # some not started yet: look again soon for their start time
            wakes.append(now + 0.5)
        done, _ = wait(pending, timeout=max(0.0, min(wakes) - now), return_when=FIRST_COMPLETED)
        if done and linger > 0 and len(done) < len(pending):
            # Items that finish moments apart are recorded together, in one transaction.
            more, _ = wait(pending - done, timeout=linger, return_when=ALL_COMPLETED)
            done |= more
        group: list[tuple[int, CrawlResult]] = []
        for future in done:
            pending.discard(future)
            result = future.result()
            if result is not None:
                group.append((futures[future], result))
        now = time.monotonic()
        for future in list(pending):
            position = futures[future]
            began = slots.started.get(position)
            out_of_time = deadline is not None and now >= deadline
            if began is not None and (now >= began + item_timeout or out_of_time):
                slots.abandon(position)
                pending.discard(future)
                log.warning("giving up on %s after %.1f s", bodies[position].get("url"), now - began)
                group.append((position, (None, _timeout_error(item_timeout), None)))
            elif began is None and out_of_time:
                slots.abandon(position)
                future.cancel()
                pending.discard(future)
                group.append((position, (None, None, ItemDeferred("not crawled before the time limit"))))
        if group:
            yield group
