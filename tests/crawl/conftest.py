"""Crawler fixtures: small timeouts/backoff so hostile cases stay fast, local servers only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingest_app.core.settings import reset_settings_cache
from tests.crawl.fixture_server import FixtureServer

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
def crawl_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from ingest_app.core.crawl.robots import clear_robots_cache
    from ingest_app.core.crawl.sources import clear_caches

    for key, value in FAST_SETTINGS.items():
        monkeypatch.setenv(key, value)
    reset_settings_cache()
    clear_robots_cache()
    clear_caches()
    yield
    monkeypatch.undo()
    reset_settings_cache()
    clear_robots_cache()
    clear_caches()


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    srv = FixtureServer()
    yield srv
    srv.stop()


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch):
    """The default demo site (no rotation), with the crawler pointed at it."""
    from devtools.demo.site import DemoSite, start_demo_server

    srv = start_demo_server(DemoSite.default(rotate=False))
    for key, value in srv.settings_env().items():
        monkeypatch.setenv(key, value)
    reset_settings_cache()
    yield srv
    srv.stop()
