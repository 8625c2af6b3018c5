"""Crawler fixtures: small timeouts/backoff so hostile cases stay fast, local servers only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.demo import demo  # noqa: F401 (a fixture)
from tests.support.fixture_server import FixtureServer

FAST_SETTINGS = {
    "CRAWLER_ALLOW_PRIVATE_HOSTS": "1",
    "CRAWLER_CONNECT_TIMEOUT": "2",
    "CRAWLER_READ_TIMEOUT": "1",
    "CRAWLER_TOTAL_TIMEOUT": "10",
    "CRAWLER_BACKOFF_BASE": "0.01",
    "CRAWLER_MAX_RETRY_AFTER": "2",
    "CRAWLER_MAX_RETRIES": "2",
    "CRAWLER_MAX_BYTES": str(1024 * 1024),
}


@pytest.fixture(autouse=True)
def crawl_settings(settings) -> Iterator[None]:
    from ingest_app.core.crawl.robots import clear_robots_cache
    from ingest_app.core.crawl.sources import clear_caches

    settings(FAST_SETTINGS)
    clear_robots_cache()
    clear_caches()
    yield
    clear_robots_cache()
    clear_caches()


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    srv = FixtureServer()
    yield srv
    srv.stop()
