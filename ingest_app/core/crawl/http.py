"""The safe HTTP client every crawler request goes through.

- http/https only; each connection (every redirect hop) resolves the host, refuses non-global
  addresses unless `CRAWLER_ALLOW_PRIVATE_HOSTS` is set, and connects to the address it checked.
- At most `crawler_max_redirects` redirects, connect/read/total timeouts, a size cap counted on
  decompressed bytes, a content-type check for pages.
- 429/5xx/timeouts: bounded retries with exponential backoff honoring Retry-After.
- robots.txt (careers pages), a per-host concurrency limit, the product's User-Agent.
Every failure is a CrawlError.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import random
import re
import socket
import threading
import time
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from ingest_app.core.crawl.types import CrawlError
from ingest_app.core.crawl.urls import host_key
from ingest_app.core.settings import Settings, get_settings

PAGE_TYPES = ("text/html", "application/xhtml+xml")
JSON_TYPES = ("application/json", "text/json", "application/ld+json", "text/plain", "text/javascript")
_REDIRECTS = (301, 302, 303, 307, 308)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# WHATWG: these labels mean windows-1252 in browsers.
_CHARSET_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252",
                    "ascii": "cp1252", "windows-1252": "cp1252", "x-sjis": "shift_jis"}


class BlockedAddress(Exception):
    def __init__(self, host: str, address: str):
        super().__init__(f"{host} resolves to a non-public address ({address})")
        self.host = host
        self.address = address


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


class GuardedBackend(httpcore.SyncBackend):
    """Resolves, validates, then connects to the validated IP. TLS still uses the URL's host
    for SNI and certificate checks (httpcore passes the origin host to start_tls)."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        if not get_settings().crawler_allow_private_hosts:
            for address in addresses:
                if not address_allowed(address):
                    raise BlockedAddress(host, address)
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"no address for {host}")


def _make_client() -> httpx.Client:
    transport = httpx.HTTPTransport(retries=0, limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
    transport._pool._network_backend = GuardedBackend()  # the only way in without re-creating the pool
    return httpx.Client(transport=transport, follow_redirects=False, trust_env=False)


_client: httpx.Client | None = None
_client_lock = threading.Lock()
_host_slots: dict[str, threading.BoundedSemaphore] = {}
_host_lock = threading.Lock()


def get_client() -> httpx.Client:
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = _make_client()
    return _client


def _host_slot(url: str, limit: int) -> threading.BoundedSemaphore:
    key = host_key(url)
    with _host_lock:
        slot = _host_slots.get(key)
        if slot is None:
            slot = _host_slots[key] = threading.BoundedSemaphore(max(1, limit))
        return slot


@dataclass
class FetchResult:
    url: str  # final URL after redirects
    status: int
    headers: httpx.Headers
    content: bytes
    media_type: str

    @property
    def charset(self) -> str:
        return detect_charset(self.headers.get("content-type", ""), self.content)

    @property
    def text(self) -> str:
        return decode_body(self.content, self.headers.get("content-type", ""))

    def json(self) -> object:
        try:
            return json.loads(self.text)
        except ValueError as exc:
            raise CrawlError("parse_error", f"the response is not valid JSON ({exc.__class__.__name__})",
                             url=self.url) from None


def _normalize_charset(name: str) -> str | None:
    name = name.strip().strip("\"'").lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        import codecs

        return codecs.lookup(name).name
    except LookupError:
        return None


def detect_charset(content_type: str, body: bytes) -> str:
    """Charset from the Content-Type header, else `<meta charset>`, else UTF-8 (when it decodes),
    else windows-1252."""
    match = re.search(r"charset\s*=\s*([^\s;]+)", content_type or "", re.I)
    if match and (name := _normalize_charset(match.group(1))):
        return name
    if body:
        meta = _META_CHARSET.search(body[:4096])
        if meta and (name := _normalize_charset(meta.group(1).decode("ascii", "ignore"))):
            return name
        try:
            body.decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def decode_body(body: bytes, content_type: str = "") -> str:
    header = re.search(r"charset\s*=\s*([^\s;]+)", content_type or "", re.I)
    meta = None if header else _META_CHARSET.search(body[:4096])
    if header or meta:
        charset = detect_charset(content_type, body)
    else:
        try:
            return body.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            charset = "cp1252"
    if charset == "utf-8" and body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    return body.decode(charset, errors="replace")


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
        if encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj()
            self._raw_fallback = True
        elif encoding in ("", "identity"):
            self._z = None
        else:
            raise CrawlError("parse_error", f"unsupported content encoding {encoding!r}")
        self._first = True

    def feed(self, data: bytes, limit: int) -> bytes:
        if self._z is None:
            return data
        try:
            if self._first and getattr(self, "_raw_fallback", False):
                self._first = False
                try:
                    probe = zlib.decompressobj()
                    out = probe.decompress(data, limit)
                    self._z = probe
                except zlib.error:
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                    out = self._z.decompress(data, limit)
                return out + self._drain(limit - len(out))
            out = self._z.decompress(data, limit)
            return out + self._drain(limit - len(out))
        except zlib.error as exc:
            raise CrawlError("parse_error", f"corrupt compressed response ({exc})") from None

    def _drain(self, limit: int) -> bytes:
        chunks = []
        while self._z.unconsumed_tail and limit > 0:
            out = self._z.decompress(self._z.unconsumed_tail, limit)
            if not out:
                break
            chunks.append(out)
            limit -= len(out)
        if self._z.unconsumed_tail:  # more output than the cap allows
            chunks.append(b"\0")
        return b"".join(chunks)


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
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise CrawlError("invalid_url", f"only http and https can be fetched, not {parts.scheme or 'this'!r}", url=url)
    if not parts.hostname:
        raise CrawlError("invalid_url", "the URL has no host", url=url)


def _fetch_hop(client: httpx.Client, url: str, s: Settings, accept: tuple[str, ...] | None,
               max_bytes: int, headers: dict[str, str]) -> tuple[FetchResult | None, str | None]:
    """One request. Returns (result, None) or (None, redirect_location)."""
    timeout = httpx.Timeout(connect=s.crawler_connect_timeout, read=s.crawler_read_timeout,
                            write=s.crawler_read_timeout, pool=s.crawler_total_timeout)
    deadline = time.monotonic() + s.crawler_total_timeout
    request = client.build_request("GET", url, headers=headers, timeout=timeout)
    slot = _host_slot(url, s.crawler_per_host_concurrency)
    with slot:
        try:
            response = client.send(request, stream=True)
        except BlockedAddress as exc:
            raise CrawlError("blocked_address", f"refused to connect: {exc}", url=url) from None
        except httpx.TimeoutException:
            raise CrawlError("timeout", "the site did not answer in time", url=url) from None
        except (httpx.TransportError, OSError) as exc:
            raise CrawlError("connection_error", f"could not connect ({exc.__class__.__name__}: {exc})"[:300],
                             url=url) from None
        try:
            status = response.status_code
            if status in _REDIRECTS and response.headers.get("location"):
                return None, urljoin(url, response.headers["location"].strip())
            if status >= 400:
                raise _status_error(status, url, _retry_after(response.headers.get("retry-after"), time.time()))
            if status != 200 and status != 203:
                raise CrawlError("http_error", f"unexpected HTTP status {status}", url=url, status=status)
            media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if accept is not None and media_type and media_type not in accept:
                raise CrawlError("not_a_job_page", f"the URL serves {media_type}, not a web page", url=url)
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > max_bytes and not response.headers.get("content-encoding"):
                raise CrawlError("too_large", f"the page is larger than {max_bytes // 1024} KB", url=url)
            decoder = _Decoder(response.headers.get("content-encoding", ""))
            body = bytearray()
            for chunk in response.iter_raw():
                body += decoder.feed(chunk, max_bytes + 1 - len(body))
                if len(body) > max_bytes:
                    raise CrawlError("too_large", f"the page is larger than {max_bytes // 1024} KB; cut off",
                                     url=url)
                if time.monotonic() > deadline:
                    raise CrawlError("timeout", "the page took too long to download", url=url)
            return FetchResult(url=url, status=status, headers=response.headers, content=bytes(body),
                               media_type=media_type), None
        except httpx.TimeoutException:
            raise CrawlError("timeout", "the site stopped sending data", url=url) from None
        except (httpx.TransportError, OSError) as exc:
            raise CrawlError("connection_error", f"the connection failed ({exc.__class__.__name__})",
                             url=url) from None
        finally:
            response.close()


def _fetch_following(url: str, s: Settings, accept, max_bytes: int, robots: bool,
                     headers: dict[str, str]) -> FetchResult:
    client = get_client()
    for _hop in range(s.crawler_max_redirects + 1):
        _check_url(url)
        if robots:
            from ingest_app.core.crawl.robots import check_robots

            check_robots(url)
        result, location = _fetch_hop(client, url, s, accept, max_bytes, headers)
        if result is not None:
            return result
        url = location
    raise CrawlError("http_error", f"more than {s.crawler_max_redirects} redirects", url=url)


def fetch(url: str, *, accept: tuple[str, ...] | None = PAGE_TYPES, robots: bool = False,
          max_bytes: int | None = None, retries: int | None = None) -> FetchResult:
    """GET a URL safely. `accept`: allowed media types (None: any). Raises CrawlError."""
    s = get_settings()
    headers = {"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate",
               "Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.5"}
    max_bytes = s.crawler_max_bytes if max_bytes is None else max_bytes
    retries = s.crawler_max_retries if retries is None else retries
    attempt = 0
    while True:
        try:
            return _fetch_following(url, s, accept, max_bytes, robots, headers)
        except CrawlError as err:
            if not err.transient or attempt >= retries:
                if err.transient and attempt:
                    err.reason += f" (after {attempt + 1} attempts)"
                raise
            wait = getattr(err, "retry_after", None)
            if wait is None:
                wait = s.crawler_backoff_base * (2**attempt) * (0.75 + random.random() / 2)
            time.sleep(min(max(wait, 0.0), s.crawler_max_retry_after))
            attempt += 1


def fetch_json(url: str, *, retries: int | None = None):
    """GET a JSON API (no robots.txt: the ATS APIs are public APIs)."""
    return fetch(url, accept=None, robots=False, retries=retries).json()
