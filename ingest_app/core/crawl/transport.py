"""The crawler's HTTP/1.1 connections: the standard library's http.client on sockets netguard let
through. Crawling is bound by the CPU a page costs, and this client costs about a third of what a
general-purpose one does (no request/response object layers, one parser in C where it can).

- A new connection resolves the host and connects only to the addresses netguard allows
  (`netguard.allowed_addresses`); TLS checks the certificate against the URL's host (SNI too).
- Every socket read and write waits at most the hop's timeout and never past the fetch's deadline
  (deadline.py), so a server that trickles its headers a byte at a time cannot hold a thread.
- Keep-alive: idle connections are kept per origin (a few per origin, a bounded number of
  connections in all); one that the server closed while idle is dropped before use, and a request that meets
  a connection closed under it is sent once more on a new connection.
- No redirects, cookies, proxies or content decoding: http.py follows redirects hop by hop and
  decompresses within its size cap.
"""

from __future__ import annotations

import http.client
import io
import select
import socket
import ssl
import threading
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import httpcore
import httpx

from ingest_app.core.crawl import deadline
from ingest_app.core.crawl.netguard import allowed_addresses

_IDLE_PER_ORIGIN = 16
_MAX_IDLE = 128  # idle connections kept in all; the least recently used origin's go first
_CHUNK = 64 * 1024
_DRAIN_LIMIT = 64 * 1024  # a small unread body (a redirect's, a 304's) is read so the connection is reused
# RFC 3986 path and query characters, and `%` so existing escapes stay as they are.
_SAFE_PATH = "!$&'()*+,;=:@/%-._~"
_SAFE_QUERY = _SAFE_PATH + "?"


class TransportTimeout(Exception):
    """A connect, read or write did not finish within its timeout or the fetch's deadline."""


class TransportError(Exception):
    """The connection failed or the answer was not valid HTTP/1.x."""


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float
    write: float


class _GuardedSocket:
    """A connected socket whose every read and write is bounded by the hop's timeout and the
    fetch's deadline (the deadline of the thread that reads, as a kept connection serves several
    fetches)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.read_timeout: float | None = None
        self.write_timeout: float | None = None
        # As socket.makefile does: the connection may be closed while the answer is still read
        # (a `Connection: close` answer), so the socket closes when its last reader does.
        self._readers = 0
        self._closed = False

    def _arm(self, timeout: float | None) -> None:
        left = deadline.clamp(timeout)
        if left is not None and left <= 0:
            raise TimeoutError("the crawl deadline passed")
        self._sock.settimeout(left)

    def sendall(self, data: bytes) -> None:
        self._arm(self.write_timeout)
        self._sock.sendall(data)

    def recv_into(self, buffer, nbytes: int = 0) -> int:
        self._arm(self.read_timeout)
        return self._sock.recv_into(buffer, nbytes)

    def makefile(self, mode: str = "rb", *args, **kwargs) -> io.BufferedReader:
        self._readers += 1
        return io.BufferedReader(_Reader(self), _CHUNK)

    def reader_closed(self) -> None:
        self._readers -= 1
        if self._closed and self._readers <= 0:
            self._sock.close()

    def idle_and_open(self) -> bool:
        """True while nothing can be read: a kept connection the server closed (or sent anything
        to unasked) is readable and must not be used again."""
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def close(self) -> None:
        self._closed = True
        if self._readers <= 0:
            self._sock.close()


class _Reader(io.RawIOBase):
    def __init__(self, sock: _GuardedSocket) -> None:
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._sock.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            self._sock.reader_closed()
        super().close()


_tls_context: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    global _tls_context
    if _tls_context is None:
        try:
            import certifi

            _tls_context = ssl.create_default_context(cafile=certifi.where())
        except ImportError:  # the system's CA store
            _tls_context = ssl.create_default_context()
    return _tls_context


def _connect(host: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to an address of `host` that netguard allows (BlockedAddress, UnknownHost)."""
    last: Exception | None = None
    for address in allowed_addresses(host, port):
        left = deadline.clamp(timeout)
        if left is not None and left <= 0:
            raise TimeoutError("the crawl deadline passed")
        try:
            sock = socket.create_connection((address, port), timeout=left)
        except TimeoutError:
            raise
        except OSError as exc:
            last = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise last or OSError(f"no address for {host}")


class _Connection(http.client.HTTPConnection):
    def __init__(self, scheme: str, host: str, port: int) -> None:
        super().__init__(host, port)
        self.scheme = scheme

    def connect(self) -> None:
        sock = _connect(self.host, self.port, self.timeout)
        if self.scheme == "https":
            try:
                sock.settimeout(deadline.clamp(self.timeout))
                sock = _tls().wrap_socket(sock, server_hostname=self.host)
            except BaseException:
                sock.close()
                raise
        self.sock = _GuardedSocket(sock)


def _ascii_host(host: str) -> str:
    try:
        host.encode("ascii")
        return host
    except UnicodeEncodeError:
        import idna

        try:
            return idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise TransportError(f"the host name is not valid ({exc})") from None


def _target(path: str, query: str) -> str:
    target = quote(path or "/", safe=_SAFE_PATH)
    return f"{target}?{quote(query, safe=_SAFE_QUERY)}" if query else target


class Answer:
    """The status and headers of an answer; its body is read with `iter_raw` (as sent: still
    compressed), and `close` gives the connection back for reuse when the answer was read whole."""

    def __init__(self, pool: Transport, origin: tuple, conn: _Connection, response: http.client.HTTPResponse):
        self._pool = pool
        self._origin = origin
        self._conn = conn
        self._response = response
        self.status_code = response.status
        # http.client decodes header bytes as Latin-1: encoded back, they are the bytes as sent.
        self.headers = httpx.Headers([(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.getheaders()])

    def iter_raw(self) -> Iterator[bytes]:
        while True:
            try:
                chunk = self._response.read1(_CHUNK)
            except TimeoutError:
                raise TransportTimeout("the site stopped sending data") from None
            except (OSError, http.client.HTTPException, ValueError) as exc:
                raise TransportError(f"{type(exc).__name__}: {exc}") from None
            if not chunk:
                return
            yield chunk

    def close(self) -> None:
        response = self._response
        if not response.isclosed() and response.length is not None and response.length <= _DRAIN_LIMIT:
            try:
                response.read()
            except (OSError, http.client.HTTPException, ValueError):
                pass
        reusable = response.isclosed() and not response.will_close and self._conn.sock is not None
        response.close()
        if reusable:
            self._pool.give_back(self._origin, self._conn)
        else:
            self._conn.close()


class Transport:
    """Connections kept per origin; `request` sends one request and returns its Answer."""

    def __init__(self) -> None:
        self._idle: OrderedDict[tuple, deque[_Connection]] = OrderedDict()
        self._lock = threading.Lock()

    def _take(self, origin: tuple) -> _Connection | None:
        found = None
        stale: list[_Connection] = []
        with self._lock:
            kept = self._idle.get(origin)
            while kept and found is None:
                conn = kept.pop()
                if conn.sock is not None and conn.sock.idle_and_open():
                    found = conn
                else:
                    stale.append(conn)
            if kept is not None and not kept:
                del self._idle[origin]
        for conn in stale:
            conn.close()
        return found

    def give_back(self, origin: tuple, conn: _Connection) -> None:
        dropped: list[_Connection] = []
        with self._lock:
            kept = self._idle.setdefault(origin, deque())
            self._idle.move_to_end(origin)
            if len(kept) < _IDLE_PER_ORIGIN:
                kept.append(conn)
            else:
                dropped.append(conn)
            excess = sum(len(conns) for conns in self._idle.values()) - _MAX_IDLE
            while excess > 0:
                oldest, conns = next(iter(self._idle.items()))
                while conns and excess > 0:
                    dropped.append(conns.popleft())
                    excess -= 1
                if not conns:
                    del self._idle[oldest]
        for old in dropped:
            old.close()

    def close(self) -> None:
        with self._lock:
            kept = [conn for conns in self._idle.values() for conn in conns]
            self._idle.clear()
        for conn in kept:
            conn.close()

    def request(self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeouts: Timeouts) -> Answer:
        """Send one request and read the status line and headers. Raises TransportTimeout,
        TransportError, or netguard's BlockedAddress / UnknownHost."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = _ascii_host(parts.hostname or "")
        origin = (scheme, host, parts.port or (443 if scheme == "https" else 80))
        target = _target(parts.path, parts.query)
        for attempt in (0, 1):
            conn = self._take(origin)
            reused = conn is not None
            conn = conn or _Connection(*origin)
            try:
                response = _exchange(conn, method, target, headers, body, timeouts)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                conn.close()
                if reused and attempt == 0:  # the server closed the kept connection: a new one
                    continue
                raise TransportError(f"{type(exc).__name__}: {exc}") from None
            except TimeoutError:
                conn.close()
                raise TransportTimeout("the site did not answer in time") from None
            except (OSError, http.client.HTTPException, ValueError, httpcore.ConnectError) as exc:
                conn.close()
                raise TransportError(f"{type(exc).__name__}: {exc}") from None
            except BaseException:
                conn.close()
                raise
            return Answer(self, origin, conn, response)
        raise AssertionError("unreachable")


def _exchange(
    conn: _Connection, method: str, target: str, headers: dict[str, str], body: bytes | None, timeouts: Timeouts
) -> http.client.HTTPResponse:
    """Connect if needed, send the request, read the status line and headers."""
    conn.timeout = timeouts.connect
    if conn.sock is None:
        conn.connect()
    conn.sock.read_timeout, conn.sock.write_timeout = timeouts.read, timeouts.write
    conn.putrequest(method, target, skip_accept_encoding=True)
    for name, value in headers.items():
        conn.putheader(name, value)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    return conn.getresponse()
