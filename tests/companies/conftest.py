"""Fixtures of the company detection and import tests: the demo site (every ATS family's answer
shapes on 127.0.0.1), a fixture server for careers pages, fast crawler settings, the API client."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ingest_app.accounts import ratelimit  # the API tests reset its buckets
from tests.support.accounts import auth_headers  # noqa: F401 (a fixture)
from tests.support.demo import HOST_FAMILIES, board_tenant, demo  # noqa: F401 (demo: a fixture)
from tests.support.fixture_server import FixtureServer

FAST = {
    "CRAWLER_ALLOW_PRIVATE_HOSTS": "1",
    "CRAWLER_CONNECT_TIMEOUT": "2",
    "CRAWLER_READ_TIMEOUT": "2",
    "CRAWLER_TOTAL_TIMEOUT": "10",
    "CRAWLER_BACKOFF_BASE": "0.01",
    "CRAWLER_MAX_RETRIES": "1",
}


@pytest.fixture(autouse=True)
def fast_crawl(settings) -> Iterator[None]:
    from ingest_app.core import listing_pool
    from ingest_app.core.crawl.robots import clear_robots_cache
    from ingest_app.core.crawl.sources import clear_caches

    settings(FAST)
    listing_pool.reset_pool()
    clear_robots_cache()
    clear_caches()
    ratelimit.reset_all()
    yield
    listing_pool.reset_pool()
    clear_robots_cache()
    clear_caches()
    ratelimit.reset_all()


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    srv = FixtureServer()
    yield srv
    srv.stop()


@pytest.fixture
def gateway(demo) -> Callable[[str], Any]:  # noqa: F811 (the demo fixture imported above)
    """A probe that lists a public board of a host-per-tenant family from the demo site's board of
    the same tenant (the real listing code, a local address), keeping the public spec."""
    from devtools.demo.data import source_for
    from ingest_app.core.detect import probe

    def _probe(spec: str):
        kind, _, value = spec.partition(":")
        if kind not in HOST_FAMILIES or value.startswith(demo.base_url):
            return probe(spec)
        return replace(probe(source_for(kind, board_tenant(kind, value), demo.base_url)), source=spec)

    return _probe


@pytest.fixture
def client() -> Iterator[TestClient]:
    from ingest_app.api.main import api

    with TestClient(api) as c:
        yield c


@pytest.fixture
def make_user(session) -> Callable[..., Any]:
    """A committed user without a password hash worth checking (these tests sign in by token)."""
    from ingest_app.core.models import User

    counter = itertools.count()

    def _make(email: str | None = None) -> User:
        user = User(email=email or f"importer{next(counter)}@example.com", password_hash="x")
        session.add(user)
        session.commit()
        return user

    return _make
