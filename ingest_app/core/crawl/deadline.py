"""One deadline for a whole piece of crawling work: a `fetch()` (every redirect hop, retry,
robots.txt and the body), a listing, a preview. The innermost deadline is the earliest of its own
and every enclosing one. The socket layer (netguard) clamps each connect, read and write to it, so
a server that trickles its headers one byte at a time cannot hold a thread past it."""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("crawl_deadline", default=None)


@contextmanager
def within(seconds: float) -> Iterator[float]:
    """Run the block under a deadline `seconds` from now (or an earlier enclosing one)."""
    current = _deadline.get()
    new = time.monotonic() + max(0.0, seconds)
    value = new if current is None else min(current, new)
    token = _deadline.set(value)
    try:
        yield value
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left before the current deadline (never negative), or None without a deadline."""
    value = _deadline.get()
    return None if value is None else max(0.0, value - time.monotonic())


def clamp(timeout: float | None) -> float | None:
    """`timeout` shortened to what is left of the deadline."""
    left = remaining()
    if left is None:
        return timeout
    return left if timeout is None else min(timeout, left)
