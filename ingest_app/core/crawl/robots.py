"""robots.txt for careers pages, parsed with protego and cached per host, in this process and for
the whole fleet.

A host's robots.txt is asked for once per `CRAWLER_ROBOTS_CACHE_SECONDS` by the fleet, not by every
worker process: the answer is kept in `_cache` (this process) and in the `robots_files` table (every
process sharing the database, workers and the web process alike, PostgreSQL or SQLite). A process
that misses its own cache reads the table; a fresh row is used as is, a stale one is revalidated
with If-None-Match / If-Modified-Since (a 304 only extends it), an absent one is fetched; the answer
is then written back. Two processes missing the same host at once may both fetch it (harmless).
The table is a cache and nothing more: when the database cannot be read or written, robots.txt is
fetched as if it were empty (logged once until it works again), so no crawl fails because of it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from protego import Protego

from ingest_app.core.crawl import deadline, validators
from ingest_app.core.crawl.http import fetch
from ingest_app.core.crawl.types import CrawlError
from ingest_app.core.crawl.urls import host_key
from ingest_app.core.settings import get_settings

log = logging.getLogger(__name__)

_ROBOTS_MAX_BYTES = 512 * 1024
# RFC 9309: a robots.txt that is unreachable or answers 5xx means "crawl nothing" for now; such an
# answer is kept only briefly so the site is asked again soon.
_UNAVAILABLE_KINDS = ("http_5xx", "http_429", "timeout", "connection_error")
_UNAVAILABLE_TTL = 30.0
# After the shared cache failed, this process leaves it alone this long (a database that is down
# would otherwise cost a connection attempt per host).
_SHARED_RETRY_SECONDS = 30.0
_cache: dict[str, tuple[float, Protego | CrawlError | None]] = {}
_lock = threading.Lock()
_host_locks: dict[str, threading.Lock] = {}

_table = sa.table(
    "robots_files",
    sa.column("host"),
    sa.column("kind"),
    sa.column("body"),
    sa.column("error_kind"),
    sa.column("error_reason"),
    sa.column("etag"),
    sa.column("last_modified"),
    sa.column("fetched_at", sa.DateTime(timezone=True)),
    sa.column("expires_at", sa.DateTime(timezone=True)),
)


@dataclass
class _Answer:
    """What robots.txt said, in the form both caches keep."""

    kind: str  # "rules" | "allow_all" | "unavailable"
    body: str | None = None
    error_kind: str | None = None
    error_reason: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    def parser(self) -> Protego | CrawlError | None:
        if self.kind == "unavailable":
            return CrawlError(
                self.error_kind or "connection_error", self.error_reason or "robots.txt could not be read"
            )
        if self.kind == "rules":
            try:
                return Protego.parse(self.body or "")
            except Exception:  # noqa: BLE001 - a broken robots.txt disallows nothing
                return None
        return None


def _robots_url(key: str) -> str:
    scheme, _, rest = key.partition("://")
    host, _, port = rest.rpartition(":")
    default = {"http": "80", "https": "443"}[scheme]
    return f"{scheme}://{host}{'' if port == default else ':' + port}/robots.txt"


def _bounded(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if 0 < len(value) <= 200 else None


def _load(key: str, stored: _Answer | None = None) -> _Answer | None:
    """Fetch robots.txt (conditionally when `stored` has validators); None on a 304 (`stored` holds)."""
    url = _robots_url(key)
    send = {}
    if stored is not None and stored.kind != "unavailable" and (stored.etag or stored.last_modified):
        send[url] = (stored.etag, stored.last_modified)
    try:
        with validators.conditional(send):
            result = fetch(url, accept=None, robots=False, max_bytes=_ROBOTS_MAX_BYTES, retries=1)
    except validators.NotModified:
        return None
    except CrawlError as err:
        if err.kind in ("blocked_address", "invalid_url"):
            raise
        if err.kind in _UNAVAILABLE_KINDS:
            reason = f"robots.txt could not be read ({err.reason}); not crawling the site for now"
            return _Answer("unavailable", error_kind=err.kind, error_reason=reason)
        return _Answer("allow_all")  # no robots.txt (4xx): nothing is disallowed
    etag, modified = _bounded(result.headers.get("etag")), _bounded(result.headers.get("last-modified"))
    return _Answer("rules", body=result.text, etag=etag, last_modified=modified)


class _Shared:
    """The `robots_files` table, read and written in autocommit on a small pool of its own (a
    robots.txt lookup never waits for a connection of the recording pool)."""

    def __init__(self) -> None:
        self._engines: dict[str, sa.Engine] = {}
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._warned = False

    def _engine(self) -> sa.Engine:
        url = get_settings().database_url
        engine = self._engines.get(url)
        if engine is None:
            with self._lock:
                engine = self._engines.get(url)
                if engine is None:
                    if url.startswith("postgresql"):
                        engine = sa.create_engine(
                            url,
                            isolation_level="AUTOCOMMIT",
                            pool_size=2,
                            max_overflow=4,
                            connect_args={
                                "connect_timeout": 5,
                                "options": "-c synchronous_commit=off -c statement_timeout=5000",
                            },
                        )
                    else:
                        from ingest_app.core.db import get_engine

                        engine = get_engine(url)
                    self._engines[url] = engine
        return engine

    def _run(self, what: str, work):
        if time.monotonic() < self._down_until:
            return None
        try:
            engine = self._engine()
            with engine.begin() as conn:
                value = work(conn)
        except Exception as exc:  # noqa: BLE001 - the cache failing must never fail a crawl
            from ingest_app.core.db import is_connection_error

            if is_connection_error(exc) or (
                isinstance(exc, (sa.exc.SQLAlchemyError, OSError)) and not isinstance(exc, sa.exc.DBAPIError)
            ):
                self._down_until = time.monotonic() + _SHARED_RETRY_SECONDS
            if not self._warned:
                self._warned = True
                log.warning("robots.txt cache in the database unavailable (%s); fetching robots.txt: %s", what, exc)
            return None
        self._warned = False
        return value

    def read(self, key: str) -> tuple[_Answer, float] | None:
        """The stored answer and the seconds it stays fresh (<= 0: stale), or None."""

        def work(conn: sa.Connection):
            row = conn.execute(sa.select(_table).where(_table.c.host == key)).mappings().first()
            if row is None:
                return None
            expires = row["expires_at"]
            if expires.tzinfo is None:  # SQLite keeps no zone: written as UTC
                expires = expires.replace(tzinfo=timezone.utc)
            left = (expires - datetime.now(timezone.utc)).total_seconds()
            answer = _Answer(
                row["kind"], row["body"], row["error_kind"], row["error_reason"], row["etag"], row["last_modified"]
            )
            return answer, left

        return self._run("read", work)

    def write(self, key: str, answer: _Answer, keep: float) -> None:
        if answer.body and "\x00" in answer.body:
            return  # a text column cannot hold it; this process keeps it, others fetch their own
        now = datetime.now(timezone.utc)
        values = {
            "host": key,
            "kind": answer.kind,
            "body": answer.body,
            "error_kind": answer.error_kind,
            "error_reason": answer.error_reason,
            "etag": answer.etag,
            "last_modified": answer.last_modified,
            "fetched_at": now,
            "expires_at": now + timedelta(seconds=keep),
        }

        def work(conn: sa.Connection):
            if conn.dialect.name == "postgresql":
                from sqlalchemy.dialects.postgresql import insert
            else:
                from sqlalchemy.dialects.sqlite import insert
            stmt = insert(_table).values(**values)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["host"], set_={k: stmt.excluded[k] for k in values if k != "host"}
                )
            )

        self._run("write", work)

    def extend(self, key: str, keep: float) -> None:
        """A 304: the stored body holds for another `keep` seconds."""
        expires = datetime.now(timezone.utc) + timedelta(seconds=keep)

        def work(conn: sa.Connection):
            conn.execute(sa.update(_table).where(_table.c.host == key).values(expires_at=expires))

        self._run("extend", work)

    def clear(self) -> None:
        self._down_until = 0.0
        self._run("clear", lambda conn: conn.execute(sa.delete(_table)))

    def dispose(self) -> None:
        with self._lock:
            engines, self._engines = self._engines, {}
        for url, engine in engines.items():
            if url.startswith("postgresql"):
                engine.dispose()


_shared = _Shared()


def _resolve(key: str, ttl: float) -> tuple[Protego | CrawlError | None, float | None]:
    """The parser for `key` and how long to keep it, from the shared cache or the site; kept for
    None when the fetch was cut short by the caller's deadline (it says nothing about the site)."""
    stored = _shared.read(key)
    if stored is not None and stored[1] > 0:
        answer, left = stored
        return answer.parser(), min(ttl, left)
    answer = _load(key, stored[0] if stored else None)
    if answer is None:  # 304: the stored copy is current
        _shared.extend(key, ttl)
        return stored[0].parser(), ttl
    if answer.kind == "unavailable" and answer.error_kind == "timeout" and deadline.remaining() == 0:
        return answer.parser(), None
    keep = min(ttl, _UNAVAILABLE_TTL) if answer.kind == "unavailable" else ttl
    _shared.write(key, answer, keep)
    return answer.parser(), keep


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
        parser, keep = _resolve(key, ttl)
        if keep is not None:
            _cache[key] = (time.monotonic() + keep, parser)
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


def clear_robots_cache(*, shared: bool = True) -> None:
    """Forget every host's robots.txt: in this process, and with `shared` in the database too."""
    with _lock:
        _cache.clear()
    if shared:
        _shared.clear()


def dispose_robots_cache() -> None:
    """Close the shared cache's connections (its database is going away)."""
    _shared.dispose()
