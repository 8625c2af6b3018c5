"""The demo site as routes of the fixture server, sending ETag and answering 304 to a matching
If-None-Match, counting every request by path and status (what a test asserts on). A path in
`answers` gets that fixed answer instead (a board that refuses its API, has no feed...)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from urllib.parse import parse_qs, urlsplit

from devtools.demo.site import DemoSite
from tests.support.fixture_server import FixtureServer, Handler


class ConditionalServer:
    def __init__(self, site: DemoSite) -> None:
        self.site = site
        self._server = FixtureServer(fallback=self._answer)
        self.base_url = self._server.base_url
        site.base_url = self.base_url
        self.requests: list[tuple[str, str, int]] = []  # (path, query, status)
        self.answers: dict[str, tuple[int, str, bytes]] = {}  # path -> (status, content type, body)
        self._lock = threading.Lock()

    def _answer(self, h: Handler) -> None:
        parts = urlsplit(h.path)
        fixed = self.answers.get(parts.path)
        if fixed is not None:
            status, ctype, body = fixed
        else:
            method = h.command  # Workable lists its jobs by POST
            data = None
            if method == "POST" and h.body:
                try:
                    data = json.loads(h.body)
                except ValueError:
                    data = None
            host = h.headers.get("Host", "")
            status, ctype, body, _ = self.site.respond(parts.path, parse_qs(parts.query), host, method, data)
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if status == 200 and h.headers.get("If-None-Match") == etag:
            status, body = 304, b""
        self.record(parts.path, parts.query, status, h.headers.get("If-None-Match"))
        h.send_response(status)
        if status != 304:
            h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("ETag", etag)
        h.end_headers()
        h.wfile.write(body)

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
        self._server.stop()
