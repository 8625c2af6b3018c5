"""Conditional requests: the validators (ETag, Last-Modified) a fetch sends and the ones it learns.

The caller that knows what it stored (stage 3 for listings, the worker for job pages) opens a
`conditional(send)` scope in the thread that fetches; `http.fetch` then adds If-None-Match /
If-Modified-Since for the URLs in `send`, raises `NotModified` on a 304 to such a request, and
records the validators of every 200 answer in `seen`, for the caller to store with its result. A
fetch outside any scope is unconditional, as before. Storing is the caller's business (it knows
whether the answer was recorded); this module holds no state across scopes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ingest_app.core.crawl.types import CrawlError

# (etag, last_modified) as the server sent them; either may be None.
Validators = tuple[str | None, str | None]
_MAX_VALIDATOR = 200  # longer header values are not kept (the column holds 200 characters)


class NotModified(CrawlError):
    """The server answered 304 to a conditional request: the stored copy is current."""

    def __init__(self, url: str) -> None:
        super().__init__(
            "not_modified", "the page has not changed since the last fetch (HTTP 304)", url=url, status=304
        )


@dataclass
class Conditional:
    send: Mapping[str, Validators] = field(default_factory=dict)
    seen: dict[str, Validators] = field(default_factory=dict)  # URL -> validators of its 200 answer
    fetched: list[str] = field(default_factory=list)  # every URL a GET got a 200 for (robots.txt aside)
    not_modified: list[str] = field(default_factory=list)
    robots: set[str] = field(default_factory=set)  # the fetched URLs that robots.txt was checked for
    other_answers: int = 0  # answers to requests other than GET (a POST is never conditional)


_current: ContextVar[Conditional | None] = ContextVar("conditional_fetch", default=None)


@contextmanager
def conditional(send: Mapping[str, Validators] | None = None) -> Iterator[Conditional]:
    scope = Conditional(send=dict(send or {}))
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


def request_headers(url: str) -> dict[str, str]:
    """The conditional headers for a GET of `url` in the current scope (none outside one)."""
    scope = _current.get()
    if scope is None:
        return {}
    etag, modified = scope.send.get(url) or (None, None)
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    return headers


def answered_not_modified(url: str) -> NotModified:
    scope = _current.get()
    if scope is not None:
        scope.not_modified.append(url)
    return NotModified(url)


def note_response(url: str, headers: Mapping[str, str], *, method: str = "GET", robots: bool = False) -> None:
    """Remember the validators of a 200 answer (robots.txt is not a page of the product), and
    that a request other than a GET was answered."""
    scope = _current.get()
    if scope is None or urlsplit(url).path == "/robots.txt":
        return
    if method != "GET":
        scope.other_answers += 1
        return
    scope.fetched.append(url)
    if robots:
        scope.robots.add(url)
    etag = _bounded(headers.get("etag"))
    modified = _bounded(headers.get("last-modified"))
    if etag or modified:
        scope.seen[url] = (etag, modified)


def _bounded(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if 0 < len(value) <= _MAX_VALIDATOR else None
