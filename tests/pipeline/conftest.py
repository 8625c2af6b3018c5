"""Helpers for the pipeline tests: seeded runs, a collecting queue fake, a local fixture site."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa

from ingest_app.core.crawl.types import Posting
from ingest_app.core.models import IngestionRun, IngestionRunItem, Job, utcnow
from ingest_app.core.pipeline.messages import parse_message
from tests.support.pages import job_page, page_server  # noqa: F401 (a fixture)


class CollectingSend:
    """A real in-memory queue: `send(bodies)` appends; `fail=True` raises like an unreachable SQS."""

    def __init__(self, fail: bool = False):
        self.bodies: list[dict[str, Any]] = []
        self.calls = 0
        self.fail = fail
        self._lock = threading.Lock()

    def __call__(self, bodies: list[dict[str, Any]], **_: Any) -> int:
        with self._lock:
            self.calls += 1
            if self.fail:
                raise RuntimeError("queue unreachable")
            self.bodies.extend(json.loads(m.model_dump_json()) for m in bodies)  # what survives the wire
        return len(bodies)

    @property
    def messages(self) -> list[Any]:
        """The bodies sent, parsed as the worker parses them."""
        return [parse_message(json.dumps(b)) for b in self.bodies]

    @property
    def item_ids(self) -> list[int]:
        return [b["item_id"] for b in self.bodies]


@pytest.fixture
def sent() -> CollectingSend:
    return CollectingSend()


def posting(url: str, title: str = "Engineer") -> Posting:
    return Posting(source_url=url, title=title, location="Remote", description="Build things.")


def seed_run(
    session,
    user_id: int,
    urls: list[str],
    *,
    status: str = "ingesting",
    company: str = "Acme",
    company_id: int | None = None,
    heartbeat_age: timedelta = timedelta(0),
) -> tuple[int, list[int]]:
    """An active run in stage 4 with one pending item per URL (what stage 3 leaves behind)."""
    now = utcnow()
    run = IngestionRun(
        user_id=user_id,
        status=status,
        current_stage=4 if status == "ingesting" else 3,
        total_jobs_found=len(urls) if status == "ingesting" else 0,
        companies=[{"company_id": company_id, "name": company, "source": "greenhouse:acme"}],
        created_at=now - heartbeat_age,
        started_at=now - heartbeat_age,
        last_heartbeat=now - heartbeat_age,
    )
    session.add(run)
    session.flush()
    items = [IngestionRunItem(run_id=run.run_id, company_id=company_id, company=company, url=u) for u in urls]
    if status == "ingesting":
        session.add_all(items)
    session.commit()
    return run.run_id, [i.id for i in items] if status == "ingesting" else []


def add_archived_job(session, user_id: int, url: str, company: str = "Acme") -> datetime:
    """A job archived a month ago; returns when it was first seen."""
    first_seen = utcnow() - timedelta(days=30)
    session.add(
        Job(
            user_id=user_id,
            company=company,
            source_url=url,
            title="Old title",
            status="archived",
            first_seen_at=first_seen,
            last_seen_at=first_seen,
            archived_at=first_seen + timedelta(days=1),
        )
    )
    session.commit()
    return first_seen


def run_row(engine, run_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.select(IngestionRun.__table__).where(IngestionRun.__table__.c.run_id == run_id)).one()


def jobs_of(engine, user_id: int) -> list[Any]:
    table = Job.__table__
    with engine.connect() as conn:
        return conn.execute(sa.select(table).where(table.c.user_id == user_id).order_by(table.c.source_url)).all()


def item_states(engine, run_id: int) -> dict[str, tuple[str, str | None]]:
    table = IngestionRunItem.__table__
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.url, table.c.state, table.c.error).where(table.c.run_id == run_id))
        return {r.url: (r.state, r.error) for r in rows}


# --- a local fixture site: Greenhouse-shaped board API + job pages with JSON-LD ----------------


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
def fixture_site(monkeypatch) -> Iterator[FixtureSite]:
    """A Greenhouse-shaped API and job pages on 127.0.0.1, with GREENHOUSE_API_BASE pointed at it."""
    from ingest_app.core.settings import reset_settings_cache

    site = FixtureSite()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("GREENHOUSE_API_BASE", site.base_url)
    monkeypatch.setenv("CRAWLER_MAX_RETRIES", "1")
    monkeypatch.setenv("CRAWLER_BACKOFF_BASE", "0.05")
    monkeypatch.setenv("CRAWLER_READ_TIMEOUT", "0.5")
    monkeypatch.setenv("CRAWLER_BOARD_CACHE_SECONDS", "0")
    reset_settings_cache()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        monkeypatch.undo()
        reset_settings_cache()
