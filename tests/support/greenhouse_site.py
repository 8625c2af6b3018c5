"""A local Greenhouse-shaped board API and job pages with JSON-LD whose content a test changes
while it is served: boards, broken boards, per-page status and delay; every path asked for."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.pages import job_page


@dataclass
class FixtureSite:
    """Mutable content: boards[token] = list of job ids; pages[id] = (status, delay seconds)."""

    boards: dict[str, list[int]] = field(default_factory=dict)
    broken_boards: set[str] = field(default_factory=set)
    page_status: dict[int, int] = field(default_factory=dict)
    page_delay: dict[int, float] = field(default_factory=dict)
    base_url: str = ""
    requests: list[str] = field(default_factory=list)  # every path asked for, in order

    def job_url(self, job_id: int) -> str:
        return f"{self.base_url}/jobs/{job_id}"


def _job_json(site: FixtureSite, job_id: int) -> dict[str, Any]:
    return {
        "id": job_id,
        "title": f"Engineer {job_id}",
        "absolute_url": site.job_url(job_id),
        "location": {"name": "Berlin"},
        "content": f"&lt;p&gt;Job number {job_id}: build reliable things.&lt;/p&gt;",
        "departments": [{"name": "Engineering"}],
        "updated_at": "2026-11-01T00:00:00Z",
    }


def _handler(site: FixtureSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            site.requests.append(self.path)
            path = self.path.split("?", 1)[0].rstrip("/")
            parts = path.split("/")
            if path == "/robots.txt":
                return self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
            # /v1/boards/{token}/jobs
            if len(parts) == 5 and parts[1] == "v1" and parts[2] == "boards" and parts[4] == "jobs":
                token = parts[3]
                if token in site.broken_boards:
                    return self._send(500, b"board unavailable", "text/plain")
                if token not in site.boards:
                    return self._send(404, b'{"status":404}', "application/json")
                jobs = [
                    {
                        "id": job_id,
                        "title": f"Engineer {job_id}",
                        "absolute_url": site.job_url(job_id),
                        "location": {"name": "Berlin"},
                        "updated_at": "2026-11-01T00:00:00Z",
                    }
                    for job_id in site.boards[token]
                ]
                body = json.dumps({"jobs": jobs, "meta": {"total": len(jobs)}}).encode()
                return self._send(200, body, "application/json")
            # /v1/boards/{token}/jobs/{id} (the API the worker extracts from) and /jobs/{id} (the page)
            api = len(parts) == 6 and parts[1] == "v1" and parts[4] == "jobs" and parts[5].isdigit()
            page = len(parts) == 3 and parts[1] == "jobs" and parts[2].isdigit()
            if api or page:
                job_id = int(parts[-1])
                delay = site.page_delay.get(job_id)
                if delay:
                    time.sleep(delay)
                status = site.page_status.get(job_id, 200)
                if status != 200:
                    return self._send(status, b"<html><body>error</body></html>", "text/html")
                if api:
                    return self._send(200, json.dumps(_job_json(site, job_id)).encode(), "application/json")
                return self._send(200, job_page(job_id), "text/html; charset=utf-8")
            return self._send(404, b"not found", "text/plain")

    return Handler


@pytest.fixture
def fixture_site(settings) -> Iterator[FixtureSite]:
    """A Greenhouse-shaped API and job pages on 127.0.0.1, with GREENHOUSE_API_BASE pointed at it."""
    site = FixtureSite()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings(
        GREENHOUSE_API_BASE=site.base_url,
        CRAWLER_MAX_RETRIES=1,
        CRAWLER_BACKOFF_BASE=0.05,
        CRAWLER_READ_TIMEOUT=0.5,
        CRAWLER_BOARD_CACHE_SECONDS=0,
    )
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def greenhouse_jobs(token: str, count: int) -> list[dict[str, Any]]:
    """`count` jobs of a Greenhouse board listing, as the Job Board API lists them."""
    return [
        {
            "id": 1000 + i,
            "title": f"Engineer {i}",
            "absolute_url": f"https://boards.greenhouse.io/{token}/jobs/{1000 + i}",
        }
        for i in range(count)
    ]
