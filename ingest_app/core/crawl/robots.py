"""robots.txt for careers pages, parsed with protego and cached per host."""

from __future__ import annotations

import threading
import time

from protego import Protego

from ingest_app.core.crawl import deadline
from ingest_app.core.crawl.http import fetch
from ingest_app.core.crawl.types import CrawlError
from ingest_app.core.crawl.urls import host_key
from ingest_app.core.settings import get_settings

_ROBOTS_MAX_BYTES = 512 * 1024
# RFC 9309: a robots.txt that is unreachable or answers 5xx means "crawl nothing" for now; such an
# answer is kept only briefly so the site is asked again soon.
_UNAVAILABLE_KINDS = ("http_5xx", "http_429", "timeout", "connection_error")
_UNAVAILABLE_TTL = 30.0
_cache: dict[str, tuple[float, Protego | CrawlError | None]] = {}
_lock = threading.Lock()
_host_locks: dict[str, threading.Lock] = {}


def _load(key: str) -> Protego | CrawlError | None:
    scheme, _, rest = key.partition("://")
    host, _, port = rest.rpartition(":")
    default = {"http": "80", "https": "443"}[scheme]
    url = f"{scheme}://{host}{'' if port == default else ':' + port}/robots.txt"
    try:
        result = fetch(url, accept=None, robots=False, max_bytes=_ROBOTS_MAX_BYTES, retries=1)
    except CrawlError as err:
        if err.kind in ("blocked_address", "invalid_url"):
            raise
        if err.kind in _UNAVAILABLE_KINDS:
            return CrawlError(err.kind, f"robots.txt could not be read ({err.reason}); not crawling the site for now")
        return None  # no robots.txt (4xx): nothing is disallowed
    try:
        return Protego.parse(result.text)
    except Exception:  # noqa: BLE001 - a broken robots.txt disallows nothing
        return None


def get_robots(url: str) -> Protego | CrawlError | None:
    key = host_key(url)
    ttl = get_settings().crawler_robots_cache_seconds
    now = time.monotonic()
    cached = _cache.get(key)
    if cached and cached[0] > now:
        return cached[1]
    with _lock:
        host_lock = _host_locks.setdefault(key, threading.Lock())
    # One robots.txt fetch per host at a time; a caller waits for it no longer than its deadline.
    left = deadline.remaining()
    if not host_lock.acquire(timeout=-1 if left is None else left):
        return CrawlError("timeout", "robots.txt is still being read; not crawling the site for now")
    try:
        cached = _cache.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        parser = _load(key)
        if isinstance(parser, CrawlError) and parser.kind == "timeout" and deadline.remaining() == 0:
            return parser  # cut short by the caller's deadline: says nothing about the site
        keep = _UNAVAILABLE_TTL if isinstance(parser, CrawlError) else ttl
        _cache[key] = (time.monotonic() + min(ttl, keep), parser)
        return parser
    finally:
        host_lock.release()


def check_robots(url: str) -> None:
    """Raise CrawlError("blocked_by_robots") when the site's robots.txt disallows `url`."""
    parser = get_robots(url)
    if parser is None:
        return
    if isinstance(parser, CrawlError):
        raise CrawlError(parser.kind, parser.reason, url=url)
    agent = get_settings().crawler_user_agent.split("/", 1)[0]
    if not parser.can_fetch(url, agent):
        raise CrawlError("blocked_by_robots", "the site's robots.txt does not allow crawling this page", url=url)


def clear_robots_cache() -> None:
    with _lock:
        _cache.clear()
