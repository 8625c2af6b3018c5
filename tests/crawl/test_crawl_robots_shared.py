"""robots.txt is read once per host by the whole fleet: the `robots_files` table on PostgreSQL
shares each answer between processes, a stale one is revalidated with If-None-Match, and a
database that cannot be reached only means every process fetches robots.txt itself."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ingest_app.core.crawl import CrawlError
from ingest_app.core.crawl.http import fetch
from ingest_app.core.crawl.robots import clear_robots_cache, dispose_robots_cache
from tests.support.robots import RobotsSite, expire_shared_robots, shared_robots

RULES = "User-agent: *\nDisallow: /private/\n"


def _another_process() -> None:
    """What a second worker process starts from: an empty cache of its own, the same database."""
    clear_robots_cache(shared=False)


def test_two_processes_fetch_a_hosts_robots_txt_once(server, engine) -> None:
    site = RobotsSite(RULES).install(server)
    server.page("/jobs/1", "<h1>x</h1>")
    server.page("/private/1", "<h1>x</h1>")
    assert fetch(server.url("/jobs/1"), robots=True).content == b"<h1>x</h1>"
    _another_process()
    with pytest.raises(CrawlError) as exc:
        fetch(server.url("/private/1"), robots=True)
    assert exc.value.kind == "blocked_by_robots"
    assert site.answers == [200]
    assert server.hits["/private/1"] == 0
    [row] = shared_robots(engine)
    assert row["host"] == server.base_url and row["kind"] == "rules" and row["etag"] == '"v1"'
    assert row["body"] == RULES


def test_a_stale_copy_is_revalidated_and_a_304_keeps_it(server, engine) -> None:
    site = RobotsSite(RULES).install(server)
    server.page("/private/1", "<h1>x</h1>")
    with pytest.raises(CrawlError):
        fetch(server.url("/private/1"), robots=True)
    [before] = shared_robots(engine)
    expire_shared_robots(engine)
    _another_process()
    with pytest.raises(CrawlError) as exc:  # still obeyed: the stored rules hold
        fetch(server.url("/private/1"), robots=True)
    assert exc.value.kind == "blocked_by_robots"
    assert site.answers == [200, 304]
    assert server.requests[-1][1].get("If-None-Match") == '"v1"'
    [after] = shared_robots(engine)
    assert after["expires_at"] > before["expires_at"] and after["body"] == RULES
    _another_process()  # the extended copy is fresh again: no request
    with pytest.raises(CrawlError):
        fetch(server.url("/private/1"), robots=True)
    assert site.answers == [200, 304]


def test_a_changed_robots_txt_is_read_again(server, engine) -> None:
    site = RobotsSite(RULES).install(server)
    server.page("/private/1", "<h1>x</h1>")
    with pytest.raises(CrawlError):
        fetch(server.url("/private/1"), robots=True)
    site.body, site.etag = "User-agent: *\nDisallow:\n", '"v2"'
    expire_shared_robots(engine)
    _another_process()
    assert fetch(server.url("/private/1"), robots=True).content == b"<h1>x</h1>"
    assert site.answers == [200, 200]
    [row] = shared_robots(engine)
    assert row["etag"] == '"v2"' and "Disallow:\n" in row["body"]


def test_a_missing_and_an_unavailable_robots_txt_are_shared_like_the_process_cache(server, settings, engine) -> None:
    settings(CRAWLER_MAX_RETRIES="0")
    server.add("/robots.txt", lambda h: h.send_body(503, b"busy"))
    server.page("/jobs/1", "<h1>x</h1>")
    with pytest.raises(CrawlError) as exc:
        fetch(server.url("/jobs/1"), robots=True)
    assert exc.value.kind == "http_5xx"
    asked = server.hits["/robots.txt"]  # robots.txt gets one retry of its own
    _another_process()
    with pytest.raises(CrawlError) as exc:  # the other process also waits, without asking
        fetch(server.url("/jobs/1"), robots=True)
    assert exc.value.kind == "http_5xx" and "robots.txt could not be read" in exc.value.reason
    assert server.hits["/robots.txt"] == asked
    [row] = shared_robots(engine)
    assert row["kind"] == "unavailable"
    assert (row["expires_at"] - row["fetched_at"]).total_seconds() == pytest.approx(30, abs=1)
    clear_robots_cache()
    server.add("/robots.txt", lambda h: h.send_body(404, b"none"))
    assert fetch(server.url("/jobs/1"), robots=True).content == b"<h1>x</h1>"
    _another_process()
    assert fetch(server.url("/jobs/1"), robots=True).content == b"<h1>x</h1>"
    assert server.hits["/robots.txt"] == asked + 1
    assert shared_robots(engine)[0]["kind"] == "allow_all"


def test_an_unreachable_database_means_fetching_robots_txt_and_obeying_it(server, settings, caplog) -> None:
    site = RobotsSite(RULES).install(server)
    server.page("/jobs/1", "<h1>x</h1>")
    server.page("/private/1", "<h1>x</h1>")
    settings(DATABASE_URL="postgresql+psycopg2://postgres@127.0.0.1:1/nowhere")
    try:
        _another_process()
        with pytest.raises(CrawlError) as exc:
            fetch(server.url("/private/1"), robots=True)
        assert exc.value.kind == "blocked_by_robots"
        assert fetch(server.url("/jobs/1"), robots=True).content == b"<h1>x</h1>"
        _another_process()
        with pytest.raises(CrawlError):
            fetch(server.url("/private/1"), robots=True)
        assert site.answers == [200, 200]
        warnings = [r for r in caplog.records if "robots.txt cache" in r.getMessage()]
        assert len(warnings) == 1
    finally:
        dispose_robots_cache()


def test_a_robots_txt_the_table_cannot_hold_is_still_obeyed(server, engine) -> None:
    RobotsSite("User-agent: *\nDisallow: /private/\n# \x00\n").install(server)
    server.page("/private/1", "<h1>x</h1>")
    for _ in range(2):
        with pytest.raises(CrawlError) as exc:
            fetch(server.url("/private/1"), robots=True)
        assert exc.value.kind == "blocked_by_robots"
    assert shared_robots(engine) == []
    server.page("/jobs/1", "<h1>x</h1>")
    _another_process()
    assert fetch(server.url("/jobs/1"), robots=True).content == b"<h1>x</h1>"
    assert server.hits["/robots.txt"] == 2


def test_the_shared_cache_also_works_on_sqlite(server, settings, tmp_path) -> None:
    from ingest_app.core.db import get_engine
    from ingest_app.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    upgrade(url)
    settings(DATABASE_URL=url)
    site = RobotsSite(RULES).install(server)
    server.page("/private/1", "<h1>x</h1>")
    for _ in range(2):
        _another_process()
        with pytest.raises(CrawlError) as exc:
            fetch(server.url("/private/1"), robots=True)
        assert exc.value.kind == "blocked_by_robots"
    assert site.answers == [200]
    with get_engine(url).begin() as conn:
        conn.execute(sa.text("UPDATE robots_files SET expires_at = '2000-01-01 00:00:00.000000'"))
    _another_process()
    with pytest.raises(CrawlError):
        fetch(server.url("/private/1"), robots=True)
    assert site.answers == [200, 304]
    get_engine(url).dispose()
