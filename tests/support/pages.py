"""A tiny local job site for worker tests: `/jobs/<n>` serves a JSON-LD JobPosting page,
`/slow/<n>?seconds=S` the same page after S seconds, `/about/<n>` a company page that is not a job
posting, `/careers` a careers page linking `/jobs/1..careers_jobs`, anything else 404. A job number
in `not_a_job` serves the company page instead (a listed job link that leads to no posting). Routes
of the fixture server on 127.0.0.1, a free port; `requests` lists the paths asked for; `stop()`
shuts it down."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.fixture_server import FixtureServer, Handler


def job_page(n: int) -> bytes:
    posting = {
        "@context": "https://schema.org",
        "@type": "JobPosting",
        "title": f"Engineer {n}",
        "description": f"<p>Build things, number {n}.</p>",
        "datePosted": "2026-11-01",
        "employmentType": "FULL_TIME",
        "hiringOrganization": {"@type": "Organization", "name": "Acme"},
        "jobLocation": {"@type": "Place", "address": {"@type": "PostalAddress", "addressLocality": "Berlin"}},
    }
    html = (
        f"<!doctype html><html><head><title>Engineer {n}</title>"
        f'<script type="application/ld+json">{json.dumps(posting)}</script></head>'
        f"<body><h1>Engineer {n}</h1></body></html>"
    )
    return html.encode()


def about_page(n: int) -> bytes:
    """A real page of a careers site that holds no posting: no JobPosting, no job fields."""
    html = (
        f"<!doctype html><html><head><title>About Acme {n}</title></head><body>"
        '<nav><a href="/">Home</a> <a href="/careers">Careers</a></nav>'
        "<main><h2>Our story</h2><p>Acme was founded by three friends who liked building things.</p>"
        "<p>Today we are a small team spread over four cities.</p></main>"
        "<footer>&copy; Acme</footer></body></html>"
    )
    return html.encode()


def careers_page(jobs: int) -> bytes:
    rows = "".join(f'<li><a href="/jobs/{n}">Engineer {n}</a></li>' for n in range(1, jobs + 1))
    html = (
        "<!doctype html><html><head><title>Careers</title></head>"
        f"<body><main><h1>Open roles</h1><ul>{rows}</ul></main></body></html>"
    )
    return html.encode()


class PageServer:
    """The routes above on the fixture server (127.0.0.1, a free port)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.not_a_job: set[int] = set()
        self.careers_jobs = 3
        self._server = FixtureServer(fallback=self._answer)
        self.base_url = self._server.base_url

    def _answer(self, h: Handler) -> None:
        self.requests.append(h.path)
        split = urlsplit(h.path)
        parts = split.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "slow" and parts[1].isdigit():
            time.sleep(float(parse_qs(split.query).get("seconds", ["1"])[0]))
            parts[0] = "jobs"
        if len(parts) == 2 and parts[0] == "jobs" and parts[1].isdigit():
            n = int(parts[1])
            body, status = (about_page(n) if n in self.not_a_job else job_page(n)), 200
        elif parts == ["careers"]:
            body, status = careers_page(self.careers_jobs), 200
        elif len(parts) == 2 and parts[0] == "about" and parts[1].isdigit():
            body, status = about_page(int(parts[1])), 200
        else:
            body, status = b"not found", 404
        h.send_body(status, body, "text/html; charset=utf-8" if status == 200 else "text/plain")

    def url(self, n: int) -> str:
        return f"{self.base_url}/jobs/{n}"

    @property
    def careers_url(self) -> str:
        return f"{self.base_url}/careers"

    def not_a_job_url(self, n: int) -> str:
        return f"{self.base_url}/about/{n}"

    def slow_url(self, n: int, seconds: float) -> str:
        return f"{self.base_url}/slow/{n}?seconds={seconds:g}"

    def stop(self) -> None:
        self._server.stop()


@pytest.fixture
def page_server() -> Iterator[PageServer]:
    server = PageServer()
    try:
        yield server
    finally:
        server.stop()
