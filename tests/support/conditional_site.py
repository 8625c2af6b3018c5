"""The demo site behind a local HTTP server that sends ETag / Last-Modified and answers 304 to a
matching If-None-Match, counting every request by path and status (what a test asserts on). A
path in `answers` gets that fixed answer instead (a board that refuses its API, has no feed...)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from devtools.demo.site import DemoSite


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._answer("GET", None)

    def do_POST(self) -> None:  # noqa: N802 - Workable lists its jobs by POST
        size = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(size) if size else b""
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        self._answer("POST", data)

    def _answer(self, method: str, data) -> None:
        server: ConditionalServer = self.server.owner
        parts = urlsplit(self.path)
        fixed = server.answers.get(parts.path)
        if fixed is not None:
            status, ctype, body = fixed
        else:
            host = self.headers.get("Host", "")
            status, ctype, body, _ = server.site.respond(parts.path, parse_qs(parts.query), host, method, data)
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if status == 200 and self.headers.get("If-None-Match") == etag:
            status, body = 304, b""
        server.record(parts.path, parts.query, status, self.headers.get("If-None-Match"))
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet
        pass


class ConditionalServer:
    def __init__(self, site: DemoSite) -> None:
        self.site = site
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.owner = self
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        site.base_url = self.base_url
        self.requests: list[tuple[str, str, int]] = []  # (path, query, status)
        self.answers: dict[str, tuple[int, str, bytes]] = {}  # path -> (status, content type, body)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def record(self, path: str, query: str, status: int, sent_etag: str | None) -> None:
        with self._lock:
            self.requests.append((path, query, status))

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    def count(self, prefix: str, status: int | None = None) -> int:
        with self._lock:
            return sum(1 for p, _, s in self.requests if p.startswith(prefix) and (status is None or s == status))

    def statuses(self) -> Counter:
        with self._lock:
            return Counter(s for _, _, s in self.requests)

    def settings_env(self) -> dict[str, str]:
        return {
            "GREENHOUSE_API_BASE": f"{self.base_url}/greenhouse",
            "LEVER_API_BASE": f"{self.base_url}/lever",
            "ASHBY_API_BASE": f"{self.base_url}/ashby",
            "WORKABLE_API_BASE": f"{self.base_url}/workable-api",
            "CRAWLER_ALLOW_PRIVATE_HOSTS": "1",
        }

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
