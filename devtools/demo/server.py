"""The demo site's HTTP server: stdlib threads, HTTP/1.1 keep-alive, bound to 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit


class Site(Protocol):
    """What the server needs of the site it serves (DemoSite is one): the site module starts the
    server, so the server knows the site only by these public members."""

    base_url: str
    request_count: int
    lock: Any  # guards request_count

    def delay_for(self, path: str) -> float: ...

    def failure_for(self, path: str) -> Any: ...

    def respond(
        self, path: str, query: dict[str, list[str]], host: str, method: str = "GET", body: object = None
    ) -> tuple[int, str, bytes, dict]: ...

    def company_sources(self, base_url: str | None = None) -> list[dict[str, str]]: ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without TCP_NODELAY, Nagle + delayed ACK can stall a keep-alive response ~40 ms.
    disable_nagle_algorithm = True
    server_version = "DemoJobSite/1.0"
    timeout = 30

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._answer("GET", None)

    def do_POST(self) -> None:  # noqa: N802 - Workday and Workable list their jobs by POST
        length = self.headers.get("Content-Length", "0")
        size = int(length) if length.isdigit() else 0
        if size > 65536:
            self.close_connection = True
            self._send(413, "text/plain", b"request body too large\n", {})
            return
        raw = self.rfile.read(size) if size else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self._answer("POST", body)

    def _answer(self, method: str, body) -> None:
        site = self.server.site
        parts = urlsplit(self.path)
        with site.lock:
            site.request_count += 1
        delay = site.delay_for(parts.path)
        if delay:
            time.sleep(delay)
        failure = site.failure_for(parts.path)
        if failure is not None:
            headers = {"Retry-After": str(int(failure.retry_after))} if failure.retry_after is not None else {}
            self._send(failure.status, "text/plain", b"injected failure\n", headers)
            return
        try:
            status, ctype, data, headers = site.respond(
                parts.path, parse_qs(parts.query), self.headers.get("Host", "127.0.0.1"), method, body
            )
        except Exception as exc:  # noqa: BLE001 - a demo bug answers 500, never kills the server
            status, ctype, data, headers = 500, "text/plain", f"error: {exc}\n".encode(), {}
        self._send(status, ctype, data, headers)

    def _send(self, status: int, ctype: str, body: bytes, headers: dict) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        if self.request_version == "HTTP/0.9":  # no headers at all
            self.wfile.write(body)
            return
        # Headers and body in one write (what end_headers + a second write would send as two).
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(body)
        self.flush_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, site: Site):
        super().__init__(address, _Handler)
        self.site = site
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()

    def process_request(self, request, client_address) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)


class DemoServer:
    """A running demo site. `stop()` closes the listener and every open connection."""

    def __init__(self, site: Site, host: str = "127.0.0.1", port: int = 0):
        self.site = site
        self._server = _Server((host, port), site)
        self.host, self.port = self._server.server_address[:2]
        self.base_url = f"http://{self.host}:{self.port}"
        site.base_url = self.base_url
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="demo-site", daemon=True
        )
        self._thread.start()

    def settings_env(self) -> dict[str, str]:
        return {
            "GREENHOUSE_API_BASE": f"{self.base_url}/greenhouse",
            "LEVER_API_BASE": f"{self.base_url}/lever",
            "ASHBY_API_BASE": f"{self.base_url}/ashby",
            "SMARTRECRUITERS_API_BASE": f"{self.base_url}/smartrecruiters-api",
            "WORKABLE_API_BASE": f"{self.base_url}/workable-api",
            "RIPPLING_API_BASE": f"{self.base_url}/rippling-api",
            "CRAWLER_ALLOW_PRIVATE_HOSTS": "1",
        }

    def company_sources(self) -> list[dict[str, str]]:
        return self.site.company_sources(self.base_url)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        with self._server.sockets_lock:
            sockets = list(self._server.open_sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)

    def __enter__(self) -> DemoServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
