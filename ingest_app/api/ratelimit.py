"""In-process sliding-window rate limits for sign-in and registration.

Each API process keeps its own windows; behind several processes the effective limit is the
configured one times the number of processes, which still stops online password guessing.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

_MAX_KEYS = 100_000


class SlidingWindowLimiter:
    """At most `limit` hits per key within any `window` seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, *, limit: int, window: float) -> float:
        """Record a hit and return 0, or return the seconds to wait (the hit is not recorded)."""
        now = self._clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= _MAX_KEYS:
                    self._prune(now, window)
                hits = self._hits[key] = deque()
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return max(hits[0] + window - now, 0.001)
            hits.append(now)
            return 0.0

    def check(self, key: str, *, limit: int, window: float) -> float:
        """The seconds to wait before `key` may hit again (0 when it may), recording nothing."""
        now = self._clock()
        with self._lock:
            hits = self._hits.get(key)
            if not hits:
                return 0.0
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return max(hits[0] + window - now, 0.001)
            return 0.0

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def _prune(self, now: float, window: float) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - window]:
            del self._hits[key]
        while len(self._hits) >= _MAX_KEYS:  # still full of live keys: drop the oldest entries
            del self._hits[next(iter(self._hits))]


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


login_by_email = SlidingWindowLimiter()
login_by_address = SlidingWindowLimiter()
register_by_address = SlidingWindowLimiter()


def reset_all() -> None:
    for limiter in (login_by_email, login_by_address, register_by_address):
        limiter.reset()
