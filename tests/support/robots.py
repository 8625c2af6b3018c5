"""robots.txt as a site that revalidates serves it, and the shared robots cache as tests see it."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from tests.support.fixture_server import FixtureServer, Handler


@dataclass
class RobotsSite:
    """Serves `body` at /robots.txt with `etag`; a matching If-None-Match gets a bodiless 304.
    `answers` records each status sent."""

    body: str
    etag: str = '"v1"'
    answers: list[int] = field(default_factory=list)

    def install(self, server: FixtureServer) -> RobotsSite:
        server.add("/robots.txt", self._route)
        return self

    def _route(self, h: Handler) -> None:
        if h.headers.get("If-None-Match") == self.etag:
            self.answers.append(304)
            h.send_response(304)
            h.send_header("ETag", self.etag)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        self.answers.append(200)
        h.send_body(200, self.body.encode(), "text/plain", {"ETag": self.etag})


def expire_shared_robots(engine: sa.Engine) -> None:
    """Every stored robots.txt answer is stale from now on (as if its time had passed)."""
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE robots_files SET expires_at = now() - interval '1 second'"))


def shared_robots(engine: sa.Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text("SELECT * FROM robots_files ORDER BY host")).mappings()]
