"""Fixtures of the REST API tests: the FastAPI app in-process against the test PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.accounts import auth_headers, password_hash  # noqa: F401 (auth_headers: a fixture)
from tests.support.greenhouse_site import fake_greenhouse  # noqa: F401 (a fixture)
from tests.support.pages import page_server  # noqa: F401 (a fixture)


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    from ingest_app.accounts import ratelimit

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
def alice(make_user, auth_headers) -> tuple[Any, dict[str, str]]:  # noqa: F811 (the fixture imported above)
    user = make_user(email="alice@example.com")
    return user, auth_headers(user)


@pytest.fixture
def bob(make_user, auth_headers) -> tuple[Any, dict[str, str]]:  # noqa: F811
    user = make_user(email="bob@example.com")
    return user, auth_headers(user)


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
