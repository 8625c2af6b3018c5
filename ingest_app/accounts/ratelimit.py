"""In-process sliding-window rate limits for sign-in and registration: one limiter for the REST
routes and the UI handlers alike.

Each web process keeps its own windows; behind several processes the effective limit is the
configured one times the number of processes, which still stops online password guessing.

Sign-in failures are counted per (email, address), and attempts per address: ten wrong passwords
from one address lock that address out of the account for the window, while the owner signing in
from another address is not affected. Failures on one email from all addresses together only slow
that email down (one attempt per address every `login_email_cooldown_seconds`), so a distributed
guesser cannot lock the owner out for long either. A correct password clears its (email, address)
count.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from ingest_app.core.settings import get_settings

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

    def forget(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def _prune(self, now: float, window: float) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - window]:
            del self._hits[key]
        while len(self._hits) >= _MAX_KEYS:  # still full of live keys: drop the oldest entries
            del self._hits[next(iter(self._hits))]


class RateLimited(Exception):
    """Too many attempts; `retry_after` is the number of seconds to wait."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil(self.retry_after))


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


TOO_MANY_SIGN_INS = "Too many sign-in attempts; try again later"
TOO_MANY_REGISTRATIONS = "Too many registrations from this address; try again later"

login_by_email = SlidingWindowLimiter()  # failures per (email, address)
login_by_address = SlidingWindowLimiter()  # attempts per address
login_failures_by_email = SlidingWindowLimiter()  # failures per email, all addresses
login_email_cooldown = SlidingWindowLimiter()  # one attempt per (email, address) while slowed down
register_by_address = SlidingWindowLimiter()


def _email_key(email: str) -> str:
    return (email or "").strip().lower()


def begin_sign_in(email: str, address: str) -> None:
    """Count one sign-in attempt, or raise RateLimited (nothing is counted then)."""
    settings = get_settings()
    email_key = _email_key(email)
    pair = f"{email_key}|{address}"
    window = settings.login_rate_window_seconds
    by_pair = {"limit": settings.login_rate_limit_per_email, "window": window}
    by_address = {"limit": settings.login_rate_limit_per_address, "window": window}
    total = {"limit": settings.login_failures_per_email_total, "window": window}
    cooldown = {"limit": 1, "window": settings.login_email_cooldown_seconds}
    slowed = login_failures_by_email.check(email_key, **total) > 0
    wait = max(
        login_by_email.check(pair, **by_pair),
        login_by_address.check(address, **by_address),
        login_email_cooldown.check(pair, **cooldown) if slowed else 0.0,
    )
    if wait:
        raise RateLimited(TOO_MANY_SIGN_INS, wait)
    # Counted before the password is checked, so parallel guesses cannot slip past the limit.
    login_by_email.hit(pair, **by_pair)
    login_by_address.hit(address, **by_address)
    if slowed:
        login_email_cooldown.hit(pair, **cooldown)


def finish_sign_in(email: str, address: str, *, succeeded: bool) -> None:
    """A correct password clears its (email, address) failures; a wrong one counts for the email."""
    settings = get_settings()
    email_key = _email_key(email)
    if succeeded:
        login_by_email.forget(f"{email_key}|{address}")
        return
    login_failures_by_email.hit(
        email_key, limit=settings.login_failures_per_email_total + 1, window=settings.login_rate_window_seconds
    )


def begin_registration(address: str) -> None:
    settings = get_settings()
    wait = register_by_address.hit(
        address, limit=settings.register_rate_limit_per_address, window=settings.register_rate_window_seconds
    )
    if wait:
        raise RateLimited(TOO_MANY_REGISTRATIONS, wait)


def reset_all() -> None:
    for limiter in (
        login_by_email,
        login_by_address,
        login_failures_by_email,
        login_email_cooldown,
        register_by_address,
    ):
        limiter.reset()
