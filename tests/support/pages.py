"""A tiny local job site for worker tests: `/jobs/<n>` serves a JSON-LD JobPosting page,
`/slow/<n>?seconds=S` the same page after S seconds, `/about/<n>` a company page that is not a job
posting, `/careers` a careers page linking `/jobs/1..careers_jobs`, anything else 404. A job number
in `not_a_job` serves the company page instead (a listed job link that leads to no posting). Binds 127.0.0.1 on a free
port; `requests` lists the paths asked for; `stop()` shuts it down."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest


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


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self.server.requests.append(self.path)
        split = urlsplit(self.path)
        parts = split.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "slow" and parts[1].isdigit():
            time.sleep(float(parse_qs(split.query).get("seconds", ["1"])[0]))
            parts[0] = "jobs"
        if len(parts) == 2 and parts[0] == "jobs" and parts[1].isdigit():
            n = int(parts[1])
            body, status = (about_page(n) if n in self.server.not_a_job else job_page(n)), 200
        elif parts == ["careers"]:
            body, status = careers_page(self.server.careers_jobs), 200
        elif len(parts) == 2 and parts[0] == "about" and parts[1].isdigit():
            body, status = about_page(int(parts[1])), 200
        else:
            body, status = b"not found", 404
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8" if status == 200 else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class PageServer:
    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.requests = []
        self.httpd.not_a_job = set()
        self.httpd.careers_jobs = 3
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def requests(self) -> list[str]:
        return self.httpd.requests

    def url(self, n: int) -> str:
        return f"{self.base_url}/jobs/{n}"

    @property
    def not_a_job(self) -> set[int]:
        return self.httpd.not_a_job

    @property
    def careers_url(self) -> str:
        return f"{self.base_url}/careers"

    def not_a_job_url(self, n: int) -> str:
        return f"{self.base_url}/about/{n}"

    def slow_url(self, n: int, seconds: float) -> str:
        return f"{self.base_url}/slow/{n}?seconds={seconds:g}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def page_server() -> Iterator[PageServer]:
    server = PageServer()
    try:
        yield server
    finally:
        server.stop()
