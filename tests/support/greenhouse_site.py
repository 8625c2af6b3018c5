"""A Greenhouse-shaped board API and job pages with JSON-LD, served as routes of the fixture
server, whose content a test changes while it is served: boards of numbered jobs, boards listed
verbatim, broken boards, per-page status and delay; every path asked for, in order.

The demo site (ingest_app/demo) is the fake ATS of end-to-end runs; this one is for tests that
need a board's exact answers (a board that breaks, a page that is slow or gone, an exact listing).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.fixture_server import FixtureServer, Handler
from tests.support.pages import job_page


@dataclass
class FixtureSite:
    """Mutable content: boards[token] = list of job ids, or listings[token] = the jobs as the API
    lists them; pages[id] = (status, delay seconds)."""

    boards: dict[str, list[int]] = field(default_factory=dict)
    listings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    broken_boards: set[str] = field(default_factory=set)
    page_status: dict[int, int] = field(default_factory=dict)
    page_delay: dict[int, float] = field(default_factory=dict)
    base_url: str = ""
    requests: list[str] = field(default_factory=list)  # every path asked for, in order

    def job_url(self, job_id: int) -> str:
        return f"{self.base_url}/jobs/{job_id}"

    def answer(self, h: Handler) -> None:
        """The route of every path: /robots.txt, /v1/boards/{token}/jobs[/{id}], /jobs/{id}."""
        self.requests.append(h.path)
        path = h.path.split("?", 1)[0].rstrip("/")
        parts = path.split("/")
        if path == "/robots.txt":
            return h.send_body(200, b"User-agent: *\nAllow: /\n", "text/plain")
        # /v1/boards/{token}/jobs
        if len(parts) == 5 and parts[1] == "v1" and parts[2] == "boards" and parts[4] == "jobs":
            token = parts[3]
            if token in self.broken_boards:
                return h.send_body(500, b"board unavailable", "text/plain")
            if token in self.listings:
                return h.send_body(200, json.dumps({"jobs": self.listings[token]}).encode(), "application/json")
            if token not in self.boards:
                return h.send_body(404, b'{"status":404}', "application/json")
            jobs = [
                {
                    "id": job_id,
                    "title": f"Engineer {job_id}",
                    "absolute_url": self.job_url(job_id),
                    "location": {"name": "Berlin"},
                    "updated_at": "2026-11-01T00:00:00Z",
                }
                for job_id in self.boards[token]
            ]
            body = json.dumps({"jobs": jobs, "meta": {"total": len(jobs)}}).encode()
            return h.send_body(200, body, "application/json")
        # /v1/boards/{token}/jobs/{id} (the API the worker extracts from) and /jobs/{id} (the page)
        api = len(parts) == 6 and parts[1] == "v1" and parts[4] == "jobs" and parts[5].isdigit()
        page = len(parts) == 3 and parts[1] == "jobs" and parts[2].isdigit()
        if api or page:
            job_id = int(parts[-1])
            delay = self.page_delay.get(job_id)
            if delay:
                time.sleep(delay)
            status = self.page_status.get(job_id, 200)
            if status != 200:
                return h.send_body(status, b"<html><body>error</body></html>", "text/html")
            if api:
                return h.send_body(200, json.dumps(self._job_json(job_id)).encode(), "application/json")
            return h.send_body(200, job_page(job_id), "text/html; charset=utf-8")
        return h.send_body(404, b"not found", "text/plain")

    def _job_json(self, job_id: int) -> dict[str, Any]:
        return {
            "id": job_id,
            "title": f"Engineer {job_id}",
            "absolute_url": self.job_url(job_id),
            "location": {"name": "Berlin"},
            "content": f"&lt;p&gt;Job number {job_id}: build reliable things.&lt;/p&gt;",
            "departments": [{"name": "Engineering"}],
            "updated_at": "2026-11-01T00:00:00Z",
        }


@contextmanager
def serving_fixture_site() -> Iterator[FixtureSite]:
    """A FixtureSite on the fixture server (127.0.0.1, a free port) for the block."""
    site = FixtureSite()
    server = FixtureServer(fallback=site.answer)
    site.base_url = server.base_url
    try:
        yield site
    finally:
        server.stop()


@pytest.fixture
def fixture_site(settings) -> Iterator[FixtureSite]:
    """A Greenhouse-shaped API and job pages on 127.0.0.1, with GREENHOUSE_API_BASE pointed at it
    and a crawler that gives up fast (one retry, short timeouts, no board cache)."""
    with serving_fixture_site() as site:
        settings(
            GREENHOUSE_API_BASE=site.base_url,
            CRAWLER_MAX_RETRIES=1,
            CRAWLER_BACKOFF_BASE=0.05,
            CRAWLER_READ_TIMEOUT=0.5,
            CRAWLER_BOARD_CACHE_SECONDS=0,
        )
        yield site


@pytest.fixture
def fake_greenhouse(settings) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """The Greenhouse board API alone, with GREENHOUSE_API_BASE pointed at it: the test fills
    `boards[token] = [jobs]` (as the API lists them, e.g. `greenhouse_jobs`); other boards are 404."""
    with serving_fixture_site() as site:
        settings(GREENHOUSE_API_BASE=site.base_url)
        yield site.listings


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
