"""The demo site (every ATS family's answer shapes on 127.0.0.1) for tests, with the crawler
settings pointed at it: the `demo` fixture, `serving(site)` for a site of the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

from devtools.demo.site import DemoServer, DemoSite, start_demo_server
from tests.support.settings import override_settings

# Families whose boards live on their own hosts (the spec is the public board URL): a test lists
# the demo site's board of the same tenant instead (`board_tenant`).
HOST_FAMILIES = ("workday", "recruitee", "personio", "teamtailor", "bamboohr", "pinpoint", "breezy")


@pytest.fixture
def demo(settings) -> Iterator[DemoServer]:
    """The default demo site (no rotation), with the crawler's API bases pointed at it."""
    server = start_demo_server(DemoSite.default(rotate=False))
    settings(server.settings_env())
    yield server
    server.stop()


@contextmanager
def serving(site: DemoSite) -> Iterator[DemoServer]:
    """Serve `site` on 127.0.0.1; the settings (and subprocesses) point the crawler at it."""
    server = start_demo_server(site)
    try:
        with override_settings(server.settings_env()):
            yield server
    finally:
        server.stop()


def add_demo_companies(session, user_id: int, server: DemoServer) -> list[int]:
    from ingest_app.core.companies import add_company

    ids = [add_company(session, user_id, name=c["name"], source=c["source"]).id for c in server.company_sources()]
    session.commit()
    return ids


def board_tenant(kind: str, board: str) -> str:
    """The tenant of a public board URL of a host-per-tenant family (its demo site slug)."""
    parts = urlsplit(board)
    host = (parts.hostname or "").split(".")
    if kind == "workday" and not board.split("/")[2].endswith("myworkdayjobs.com"):
        return [s for s in parts.path.split("/") if s][-2]
    return host[0]
