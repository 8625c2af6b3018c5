"""The demo site for worker tests, with the crawler settings pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from devtools.demo.site import DemoServer, DemoSite, start_demo_server
from tests.support.emulator import env_applied


@contextmanager
def serving(site: DemoSite) -> Iterator[DemoServer]:
    """Serve `site` on 127.0.0.1; the settings (and subprocesses) point the crawler at it."""
    server = start_demo_server(site)
    try:
        with env_applied(dict(server.settings_env())):
            yield server
    finally:
        server.stop()


def add_demo_companies(session, user_id: int, server: DemoServer) -> list[int]:
    from ingest_app.core.companies import add_company

    ids = [add_company(session, user_id, name=c["name"], source=c["source"]).id for c in server.company_sources()]
    session.commit()
    return ids
