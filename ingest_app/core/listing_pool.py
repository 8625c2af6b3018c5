"""The bounded pool that runs dry runs (previews) off the request threads.

A preview fetches untrusted pages, so it may take until its deadline. It runs on one of
`preview_pool_size` threads of its own, never on the threads the web server shares between every
user; at most `preview_per_user_limit` previews of one user are in flight, and at most
`preview_queue_limit` wait for a free thread. Beyond that a new preview is refused at once with
`PreviewBusy` (a clear message, never a wait). Each preview runs under a deadline
(`preview_timeout`) that every fetch inside shares, so a thread is always given back.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from ingest_app.core.crawl import deadline
from ingest_app.core.settings import get_settings

T = TypeVar("T")


class PreviewBusy(Exception):
    """Too many previews in flight (for this user, or for the whole server); retry later."""

    def __init__(self, message: str, retry_after: int = 5):
        super().__init__(message)
        self.retry_after = retry_after


class ListingPool:
    def __init__(self, workers: int, per_user: int, queue_limit: int, timeout: float):
        self.workers = workers
        self.per_user = per_user
        self.capacity = workers + queue_limit
        self.timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="preview")
        self._lock = threading.Lock()
        self._by_user: Counter[Hashable] = Counter()
        self._total = 0

    def in_flight(self, user: Hashable | None = None) -> int:
        with self._lock:
            return self._total if user is None else self._by_user[user]

    def submit(self, user: Hashable, fn: Callable[[], T]) -> Future[T]:
        """Run `fn` under the preview deadline on a pool thread; raises PreviewBusy when full."""
        with self._lock:
            if self._by_user[user] >= self.per_user:
                raise PreviewBusy(
                    f"You already have {self._by_user[user]} previews running; "
                    "wait for one to finish before starting another"
                )
            if self._total >= self.capacity:
                raise PreviewBusy("The server is busy with other previews; try again in a minute", retry_after=30)
            self._by_user[user] += 1
            self._total += 1
        timeout = self.timeout

        def run() -> T:
            with deadline.within(timeout):
                return fn()

        try:
            future = self._executor.submit(run)
        except BaseException:
            self._release(user)
            raise
        future.add_done_callback(lambda _f: self._release(user))
        return future

    def _release(self, user: Hashable) -> None:
        with self._lock:
            self._by_user[user] -= 1
            if self._by_user[user] <= 0:
                del self._by_user[user]
            self._total -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


_pool: ListingPool | None = None
_pool_lock = threading.Lock()


def get_pool() -> ListingPool:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                s = get_settings()
                _pool = ListingPool(
                    s.preview_pool_size, s.preview_per_user_limit, s.preview_queue_limit, s.preview_timeout
                )
    return _pool


def reset_pool() -> None:
    """Forget the pool (tests change its settings); running previews finish on the old one."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown()
        _pool = None
