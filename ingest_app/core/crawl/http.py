"""The safe HTTP client every crawler request goes through.

- http/https only; each connection (every redirect hop) resolves the host, refuses non-global
  addresses unless `CRAWLER_ALLOW_PRIVATE_HOSTS` is set, and connects to the address it checked.
- At most `crawler_max_redirects` redirects, connect/read timeouts, and one total deadline per
  `fetch()` that covers every hop, retry, robots.txt and the body, enforced down to each socket
  read (see deadline.py); a size cap counted on decompressed bytes, a content-type check for pages.
- 429/5xx/timeouts: bounded retries with exponential backoff honoring Retry-After.
- robots.txt (careers pages), the product's User-Agent.
- A slot of the per-host budget (politeness.py: per process, or shared by the fleet) around every
  request; every answer's status goes to the budget (Retry-After and repeated 429/503 pause the
  host). Every failure is a CrawlError, except `politeness.HostBusy` (no slot in time: the work
  should be retried later, it did not fail).
"""

from __future__ import annotations

import email.utils
import json
import random
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from ingest_app.core.crawl import deadline, politeness, validators
from ingest_app.core.crawl.charset import declared_charset, decode_body
from ingest_app.core.crawl.netguard import BlockedAddress, UnknownHost
from ingest_app.core.crawl.transport import Answer, Timeouts, Transport, TransportError, TransportTimeout
from ingest_app.core.crawl.types import CrawlError
from ingest_app.core.crawl.urls import host_key
from ingest_app.core.settings import Settings, get_settings

PAGE_TYPES = ("text/html", "application/xhtml+xml")
_REDIRECTS = (301, 302, 303, 307, 308)


# Requests go through the crawler's own transport (transport.py: http.client on sockets netguard
# let through, kept alive per origin): no cookie jar shared between sites, no redirect following
# (done here, hop by hop), no proxies from the environment.
_transport: Transport | None = None
_transport_lock = threading.Lock()


def get_transport() -> Transport:
    global _transport
    if _transport is None:
        with _transport_lock:
            if _transport is None:
                _transport = Transport()
    return _transport


@dataclass
class FetchResult:
    url: str  # final URL after redirects
    status: int
    headers: httpx.Headers
    content: bytes
    media_type: str

    @property
    def text(self) -> str:
        return decode_body(self.content, self.headers.get("content-type", ""))

    def json(self) -> object:
        """The parsed body, within a memory bound (see `parse_json`)."""
        charset = declared_charset(self.headers.get("content-type", ""), self.content)
        data: bytes | str = self.content if charset in (None, "utf-8") else self.text
        return parse_json(data, url=self.url)


class _Counter:
    """Counts the objects and numbers json.loads builds; stops the parse past the limit."""

    def __init__(self, limit: int, url: str | None, already: int):
        self.limit = limit
        self.url = url
        self.count = already

    def _add(self, n: int = 1) -> None:
        self.count += n
        if self.count > self.limit:
            raise CrawlError(
                "too_large", f"the JSON answer holds more than {self.limit} values; not read", url=self.url
            )

    def pairs(self, pairs: list) -> dict:
        self._add(len(pairs))
        return dict(pairs)

    def integer(self, text: str) -> int:
        self._add()
        return int(text)

    def real(self, text: str) -> float:
        self._add()
        return float(text)

    def constant(self, text: str) -> float:  # NaN, Infinity, -Infinity
        self._add()
        return float(text)


def parse_json(data: bytes | str, *, url: str | None = None, limit: int | None = None) -> object:
    """json.loads within a memory bound of `crawler_max_json_values` values (a 16 MiB array of
    empty objects would take about 900 MB as Python objects). Containers and strings are bounded
    before parsing by counting `[`, `{` and `"` (a fast scan that can only overestimate); object
    members and numbers are counted while parsing, which stops at the limit. Raises CrawlError."""
    limit = get_settings().crawler_max_json_values if limit is None else limit
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    containers_and_strings = raw.count(b"[") + raw.count(b"{") + raw.count(b'"') // 2
    if containers_and_strings > limit:
        raise CrawlError("too_large", f"the JSON answer holds more than {limit} values; not read", url=url)
    counter = _Counter(limit, url, containers_and_strings)
    try:
        return json.loads(data, object_pairs_hook=counter.pairs, parse_int=counter.integer, parse_float=counter.real)
    except RecursionError:
        raise CrawlError("parse_error", "the JSON answer is nested too deeply", url=url) from None
    except ValueError as exc:
        raise CrawlError("parse_error", f"the response is not valid JSON ({exc.__class__.__name__})", url=url) from None


def _retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now) if when else None


class _Decoder:
    """Decompresses gzip/deflate with a bounded output, so a compression bomb stays capped."""

    def __init__(self, encoding: str):
        encoding = encoding.strip().lower()
        if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
            raise CrawlError("parse_error", f"unsupported content encoding {encoding!r}")
        self._encoding = encoding
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS) if "gzip" in encoding else None

    def feed(self, data: bytes, limit: int) -> bytes:
        """Up to `limit` decompressed bytes (plus one when more would follow)."""
        if self._encoding in ("", "identity"):
            return data
        try:
            if self._z is None:  # deflate: zlib-wrapped per the RFC, raw in practice as often
                self._z = zlib.decompressobj(zlib.MAX_WBITS if data[:1] == b"\x78" else -zlib.MAX_WBITS)
            chunks = [self._z.decompress(data, max(limit, 1))]
            produced = len(chunks[0])
            while self._z.unconsumed_tail and produced <= limit:
                out = self._z.decompress(self._z.unconsumed_tail, max(limit - produced, 1))
                if not out:
                    break
                chunks.append(out)
                produced += len(out)
            return b"".join(chunks)
        except zlib.error as exc:
            raise CrawlError("parse_error", f"corrupt compressed response ({exc})") from None


def _status_error(status: int, url: str, retry_after: float | None = None) -> CrawlError:
    if status == 404:
        return CrawlError("not_found", "the page does not exist (HTTP 404)", url=url, status=status)
    if status == 410:
        return CrawlError("gone", "the page was removed (HTTP 410)", url=url, status=status)
    if status == 429:
        err = CrawlError("http_429", "the site is rate limiting us (HTTP 429)", url=url, status=status)
    elif status >= 500:
        err = CrawlError("http_5xx", f"the site answered with a server error (HTTP {status})", url=url, status=status)
    else:
        return CrawlError("http_error", f"the site refused the request (HTTP {status})", url=url, status=status)
    err.retry_after = retry_after
    return err


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on an invalid port
    except ValueError:
        raise CrawlError("invalid_url", "not a valid URL", url=url[:200]) from None
    if parts.scheme not in ("http", "https"):
        raise CrawlError("invalid_url", f"only http and https can be fetched, not {parts.scheme or 'this'!r}", url=url)
    if not parts.hostname:
        raise CrawlError("invalid_url", "the URL has no host", url=url)


def _hop_timeout(s: Settings, left: float) -> Timeouts:
    """The timeouts of one hop, none past what is left of the fetch's deadline."""
    return Timeouts(
        connect=min(s.crawler_connect_timeout, left),
        read=min(s.crawler_read_timeout, left),
        write=min(s.crawler_read_timeout, left),
    )


def _send(
    transport: Transport, method: str, url: str, headers: dict[str, str], body: bytes | None, timeouts: Timeouts
) -> Answer:
    """Sends the request and waits for the status line and headers; a failure to get them is a
    CrawlError that says why (a refused address, no such host, no answer in time, ...)."""
    try:
        return transport.request(method, url, headers, body, timeouts)
    except BlockedAddress as exc:
        raise CrawlError("blocked_address", f"refused to connect: {exc}", url=url) from None
    except UnknownHost as exc:
        raise CrawlError("not_found", f"the host {exc} does not exist", url=url) from None
    except TransportTimeout:
        raise CrawlError("timeout", "the site did not answer in time", url=url) from None
    except TransportError as exc:
        raise CrawlError("connection_error", f"could not connect ({exc})"[:300], url=url) from None


def _redirect_location(response: Answer, url: str) -> str | None:
    """The absolute URL a redirect points to; None when the answer is not a redirect."""
    if response.status_code not in _REDIRECTS or not response.headers.get("location"):
        return None
    try:
        return urljoin(url, response.headers["location"].strip())
    except ValueError:
        raise CrawlError("invalid_url", "the site redirects to an invalid URL", url=url) from None


def _check_status(status: int, url: str, conditional: bool, retry_after: float | None) -> None:
    """Refuses every status but 200 and 203 (a redirect is handled before): 304 answers a
    conditional request (the caller's copy is current), the rest are errors."""
    if status == 304 and conditional:
        raise validators.answered_not_modified(url)
    if status >= 400:
        raise _status_error(status, url, retry_after)
    if status != 200 and status != 203:
        raise CrawlError("http_error", f"unexpected HTTP status {status}", url=url, status=status)


def _media_type(response: Answer, accept: tuple[str, ...] | None, url: str) -> str:
    """The answer's media type, refused when the caller accepts only others (an answer without
    one is read: many sites leave it out)."""
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if accept is not None and media_type and media_type not in accept:
        raise CrawlError("not_a_job_page", f"the URL serves {media_type}, not a web page", url=url)
    return media_type


def _read_body(response: Answer, max_bytes: int, url: str) -> bytes:
    """The decompressed body, refused past `max_bytes` (up front by an uncompressed
    Content-Length, else while reading) or past the fetch's deadline."""
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes and not response.headers.get("content-encoding"):
        raise CrawlError("too_large", f"the page is larger than {max_bytes // 1024} KB", url=url)
    decoder = _Decoder(response.headers.get("content-encoding", ""))
    body = bytearray()
    for chunk in response.iter_raw():
        body += decoder.feed(chunk, max_bytes + 1 - len(body))
        if len(body) > max_bytes:
            raise CrawlError("too_large", f"the page is larger than {max_bytes // 1024} KB; cut off", url=url)
        if deadline.remaining() == 0:
            raise CrawlError("timeout", "the page took too long to download", url=url)
    return bytes(body)


def _read_answer(
    response: Answer,
    url: str,
    accept: tuple[str, ...] | None,
    max_bytes: int,
    conditional: bool,
    observe: Callable[[int, float | None], None],
) -> tuple[FetchResult | None, str | None]:
    """Reads one answer: its status goes to the host budget first (`observe`), then a redirect
    returns its location, any other status but success raises, and a success is read within the
    caps."""
    status = response.status_code
    retry_after = _retry_after(response.headers.get("retry-after"), time.time())
    observe(status, retry_after)
    location = _redirect_location(response, url)
    if location is not None:
        return None, location
    _check_status(status, url, conditional, retry_after)
    media_type = _media_type(response, accept, url)
    content = _read_body(response, max_bytes, url)
    return FetchResult(url=url, status=status, headers=response.headers, content=content, media_type=media_type), None


def _fetch_hop(
    transport: Transport,
    url: str,
    s: Settings,
    accept: tuple[str, ...] | None,
    max_bytes: int,
    headers: dict[str, str],
    method: str = "GET",
    body: bytes | None = None,
) -> tuple[FetchResult | None, str | None]:
    """One request. Returns (result, None) or (None, redirect_location)."""
    left = _time_left(url)
    conditional = validators.request_headers(url) if method == "GET" else {}
    timeouts = _hop_timeout(s, left)
    budget = politeness.get_budget()
    host, limit = host_key(url), s.crawler_per_host_concurrency
    lease = budget.acquire(host, limit, timeout=min(left, s.crawler_slot_wait_seconds))  # HostBusy
    try:
        response = _send(transport, method, url, {**headers, **conditional}, body, timeouts)
        try:
            return _read_answer(
                response,
                url,
                accept,
                max_bytes,
                bool(conditional),
                lambda status, retry_after: budget.observe(host, status, retry_after),
            )
        except TransportTimeout:
            raise CrawlError("timeout", "the site stopped sending data", url=url) from None
        except TransportError as exc:
            raise CrawlError("connection_error", f"the connection failed ({exc})"[:300], url=url) from None
        finally:
            response.close()
    finally:
        budget.release(lease, limit)


def _time_left(url: str) -> float:
    left = deadline.remaining()
    if left is None:  # fetch() always sets one; a direct caller gets the total timeout
        return get_settings().crawler_total_timeout
    if left <= 0:
        raise CrawlError("timeout", "the site did not answer in time", url=url)
    return left


def _no_robots_check(url: str) -> None:
    raise RuntimeError("no robots.txt check is installed: import ingest_app.core.crawl first")


# The robots.txt check fetches robots.txt with `fetch` itself, so it lives above this module and is
# handed in (the crawl service installs `robots.check_robots` when it is imported), the way a
# crawler engine hands itself to its robots middleware rather than the fetcher importing it.
_robots_check: Callable[[str], None] = _no_robots_check


def set_robots_check(check: Callable[[str], None]) -> None:
    """Install the check `fetch(..., robots=True)` runs on every hop; it raises CrawlError to refuse."""
    global _robots_check
    _robots_check = check


def _fetch_following(
    url: str,
    s: Settings,
    accept,
    max_bytes: int,
    robots: bool,
    headers: dict[str, str],
    method: str = "GET",
    body: bytes | None = None,
    stop_at: Callable[[str], bool] | None = None,
) -> FetchResult:
    transport = get_transport()
    for hop in range(s.crawler_max_redirects + 1):
        if hop and stop_at is not None and stop_at(url):  # the caller knows this URL already
            return FetchResult(url=url, status=0, headers=httpx.Headers(), content=b"", media_type="")
        _check_url(url)
        if robots:
            _robots_check(url)
        result, location = _fetch_hop(transport, url, s, accept, max_bytes, headers, method, body)
        if result is not None:
            validators.note_response(url, result.headers, method=method, robots=robots)
            return result
        if method != "GET":  # a POST is never replayed to another URL
            raise CrawlError("http_error", f"the site redirected the request to {location[:200]}", url=url)
        url = location
    raise CrawlError("http_error", f"more than {s.crawler_max_redirects} redirects", url=url)


def fetch(
    url: str,
    *,
    accept: tuple[str, ...] | None = PAGE_TYPES,
    robots: bool = False,
    max_bytes: int | None = None,
    retries: int | None = None,
    method: str = "GET",
    body: bytes | None = None,
    extra_headers: dict[str, str] | None = None,
    stop_at: Callable[[str], bool] | None = None,
) -> FetchResult:
    """GET (or, with `method` and `body`, POST) a URL safely. `accept`: allowed media types (None:
    any). A request other than GET is not redirected. `stop_at(url)` true for a redirect target
    ends the fetch there, unfetched (status 0, no content): detection recognizes an ATS board
    URL without loading its page. Raises CrawlError."""
    s = get_settings()
    headers = {
        "User-Agent": s.user_agent,
        "Accept-Encoding": "gzip, deflate",
        "Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.5",
        **(extra_headers or {}),
    }
    max_bytes = s.crawler_max_bytes if max_bytes is None else max_bytes
    retries = s.crawler_max_retries if retries is None else retries
    attempt = 0
    with deadline.within(s.crawler_total_timeout):
        while True:
            try:
                return _fetch_following(url, s, accept, max_bytes, robots, headers, method, body, stop_at)
            except CrawlError as err:
                wait = getattr(err, "retry_after", None)
                if wait is None:
                    wait = s.crawler_backoff_base * (2**attempt) * (0.75 + random.random() / 2)
                wait = min(max(wait, 0.0), s.crawler_max_retry_after)
                left = deadline.remaining() or 0.0
                if not err.transient or attempt >= retries or wait >= left:
                    if err.transient and attempt:
                        err.reason += f" (after {attempt + 1} attempts)"
                    raise
                time.sleep(wait)
                attempt += 1


def fetch_json(url: str, *, retries: int | None = None):
    """GET a JSON API (no robots.txt: the ATS APIs are public APIs)."""
    return fetch(url, accept=None, robots=False, retries=retries, max_bytes=get_settings().crawler_max_api_bytes).json()
