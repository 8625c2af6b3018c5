"""The raw-HTTP fixture server of the tests: a local server on 127.0.0.1 whose routes a test
declares, for the edge cases no fake ATS shows: fixture files and hostile behaviours (huge
bodies, redirect chains, 429 with Retry-After, slow or endless answers, status codes, headers,
304s). A route is a callable given the request handler (`respond(...)` builds the common one);
`fallback` answers every path without a route of its own, which is how a route set with dynamic
paths (a board API, numbered job pages) is served. `TrickleServer` is the one below HTTP: a raw
socket that sends its head one byte at a time."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "crawl" / "fixtures"

Route = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10

    body: bytes = b""

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        length = self.headers.get("Content-Length", "0")
        self.body = self.rfile.read(int(length)) if length.isdigit() else b""
        self.server.owner.posts.append((urlsplit(self.path).path, self.body))
        self._dispatch()

    def _dispatch(self) -> None:
        server: FixtureServer = self.server.owner
        path = urlsplit(self.path).path
        server.hits[path] += 1
        server.requests.append((path, dict(self.headers)))
        route = server.routes.get(path, server.fallback)
        try:
            if route is None:
                self.send_body(404, b"not found", "text/plain")
            else:
                route(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def send_body(
        self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8", headers: dict | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:  # noqa: A002
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    address_family = socket.AF_INET

    def process_request(self, request, client_address) -> None:
        with self.owner.lock:
            self.owner.sockets.add(request)
        super().process_request(request, client_address)


class _HTTP6Server(_HTTPServer):
    address_family = socket.AF_INET6


class FixtureServer:
    """`host` is a loopback address ("::1" serves IPv6); `port` 0 takes a free one; `tls` serves
    HTTPS with that server context."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, fallback: Route | None = None, tls: ssl.SSLContext | None = None
    ) -> None:
        self.routes: dict[str, Route] = {}
        self.fallback = fallback
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, dict]] = []
        self.posts: list[tuple[str, bytes]] = []  # (path, body) of every POST
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        self._httpd = (_HTTP6Server if ":" in host else _HTTPServer)((host, port), Handler)
        self._httpd.owner = self
        self.port = self._httpd.server_address[1]
        scheme = "http"
        if tls is not None:  # HTTPS: every accepted connection does the TLS handshake first
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
            scheme = "https"
        self.base_url = f"{scheme}://[{host}]:{self.port}" if ":" in host else f"{scheme}://{host}:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return self.base_url + path

    # ----- route builders ------------------------------------------------------------------
    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)

    def page(
        self,
        path: str,
        body: bytes | str,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
        headers: dict | None = None,
    ) -> str:
        data = body.encode() if isinstance(body, str) else body
        return self.add(path, lambda h: h.send_body(status, data, content_type, headers))

    def fixture(self, path: str, name: str, content_type: str = "text/html; charset=utf-8") -> str:
        body = (FIXTURES / name).read_bytes().replace(b"{{BASE}}", self.base_url.encode())
        return self.page(path, body, content_type)

    def json_fixture(self, path: str, name: str) -> str:
        return self.fixture(path, name, "application/json")

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        return self.add(path, lambda h: h.send_body(status, b"", "text/plain", {"Location": location}))

    def sequence(self, path: str, *routes: Route) -> str:
        """Answer the n-th request with routes[n] (the last one repeats)."""

        def route(h: Handler) -> None:
            n = self.hits[path] - 1
            routes[min(n, len(routes) - 1)](h)

        return self.add(path, route)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        with self.lock:
            for sock in list(self.sockets):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._thread.join(timeout=5)


def respond(
    status: int, body: bytes | str = b"", content_type: str = "text/html; charset=utf-8", headers: dict | None = None
) -> Route:
    data = body.encode() if isinstance(body, str) else body
    return lambda h: h.send_body(status, data, content_type, headers)


def slow(seconds: float, route: Route) -> Route:
    def handler(h: Handler) -> None:
        time.sleep(seconds)
        route(h)

    return handler


class TrickleServer:
    """A raw socket server on 127.0.0.1 that sends its status line and headers one byte at a time."""

    def __init__(self, delay: float, head: bytes = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" * 50):
        self.delay = delay
        self.head = head
        self.connections = 0
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                for i in range(len(self.head)):
                    if self._stop.wait(self.delay):
                        return
                    conn.sendall(self.head[i : i + 1])
            except OSError:
                return

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)
