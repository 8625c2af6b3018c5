"""Fixtures of the REST API tests: the FastAPI app in-process against the test PostgreSQL."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.accounts import password_hash
from tests.support.pages import page_server  # noqa: F401 (a fixture)


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    from ingest_app.core import ratelimit

    ratelimit.reset_all()
    yield
    ratelimit.reset_all()


@pytest.fixture
def client() -> Iterator[TestClient]:
    from ingest_app.api.main import api

    with TestClient(api) as c:
        yield c
    api.dependency_overrides.clear()


@pytest.fixture
def make_user(session) -> Callable[..., Any]:
    """Like the shared fixture, but hashes PASSWORD once per test session (argon2 is slow on purpose)."""
    from ingest_app.core.models import User

    counter = itertools.count()

    def _make(email: str | None = None) -> User:
        user = User(email=email or f"user{next(counter)}@example.com", password_hash=password_hash())
        session.add(user)
        session.commit()
        return user

    return _make


@pytest.fixture
def alice(make_user, auth_headers) -> tuple[Any, dict[str, str]]:
    user = make_user(email="alice@example.com")
    return user, auth_headers(user)


@pytest.fixture
def bob(make_user, auth_headers) -> tuple[Any, dict[str, str]]:
    user = make_user(email="bob@example.com")
    return user, auth_headers(user)


@pytest.fixture
def auth_headers() -> Callable[[Any], dict[str, str]]:
    """auth_headers(user) -> an Authorization header with a fresh token of that user."""
    from ingest_app.core.security import create_access_token

    def _headers(user: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {create_access_token(user.id).access_token}"}

    return _headers


class _FakeBoards(ThreadingHTTPServer):
    boards: dict[str, list[dict[str, Any]]]


class _BoardHandler(BaseHTTPRequestHandler):
    """`GET /v1/boards/{token}/jobs` like the Greenhouse Job Board API; unknown boards are 404."""

    server: _FakeBoards

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        parts = self.path.split("?")[0].strip("/").split("/")
        jobs = self.server.boards.get(parts[2]) if len(parts) == 4 and parts[:2] == ["v1", "boards"] else None
        body = json.dumps({"jobs": jobs} if jobs is not None else {"error": "not found"}).encode()
        self.send_response(200 if jobs is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_greenhouse(settings) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """A local Greenhouse-compatible board API; the test fills `boards[token] = [jobs]`."""

    server = _FakeBoards(("127.0.0.1", 0), _BoardHandler)
    server.boards = {}
    thread = threading.Thread(target=server.serve_forever, name="fake-greenhouse", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings(greenhouse_api_base=base)
    yield server.boards
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def join_stage3() -> Iterator[Callable[[int], None]]:
    """The queue the start route enqueues stage 3 on, and the worker side: `join(run_id)` runs
    the run's listing messages as a worker does (the web process itself lists nothing)."""
    from tests.support.fleet import FleetQueue

    with FleetQueue() as queue:

        def _join(run_id: int) -> None:
            assert queue.of_type("listing", run_id), f"run {run_id} enqueued no listing message"
            queue.drain(run_id)

        yield _join
