"""Job pages in the worker: an item's posting from the listing or its page, fetched conditionally
while the user's job for it is active, and the validators and 304 touches the recording
transaction writes (pipeline/record.py). Stage 3's side of incremental runs is
pipeline/incremental.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ingest_app.core.crawl import validators
from ingest_app.core.crawl.types import Posting
from ingest_app.core.pipeline.incremental import DETAIL_FAMILIES, JOBS, VALIDATORS, posting_from_dict, upsert_validators


@dataclass
class Crawled:
    """What the worker learned about one item: a posting, or `unchanged` (a 304), plus the
    validators of the page it fetched (stored when the item is recorded)."""

    posting: Posting | None = None
    unchanged: bool = False
    validators: tuple[str | None, str | None] | None = None


def crawl(body: dict[str, Any], extract) -> Crawled:
    """One item: the listing's posting (plus the detail a DETAIL_FAMILIES job adds), else the job
    fetched, conditionally when `body["validators"]` holds the stored ones. Raises CrawlError."""
    url, hints = body["url"], body.get("hints") or {}
    stored = body.get("posting")
    if stored:
        posting = posting_from_dict(stored)
        if str(hints.get("source")) in DETAIL_FAMILIES:
            # A failed detail fails the item (as a failed fetch always did): recording the
            # listing's posting instead would keep the job without its pay range for good, since
            # the next run finds it unchanged.
            posting = extract(url, hints)
        return Crawled(posting=posting)
    send = {url: tuple(body["validators"])} if body.get("validators") else {}
    with validators.conditional(send) as scope:
        try:
            posting = extract(url, hints)
        except validators.NotModified:
            return Crawled(unchanged=True)
    return Crawled(posting=posting, validators=scope.seen.get(url))


_TOUCH_JOBS = (
    sa.update(JOBS)
    .where(JOBS.c.user_id == sa.bindparam("p_user_id"), JOBS.c.source_url.in_(sa.bindparam("p_urls", expanding=True)))
    .values(last_seen_at=sa.bindparam("p_now"), last_run_id=sa.bindparam("p_run_id"))
)


def touch_jobs(conn: sa.Connection, user_id: int, urls: list[str], run_id: int, now: datetime) -> None:
    """Unchanged jobs (a 304): seen now, in this run; nothing else changes."""
    if urls:
        conn.execute(_TOUCH_JOBS, {"p_user_id": user_id, "p_urls": sorted(urls), "p_now": now, "p_run_id": run_id})


# A worker's batch of page validators in one prebuilt statement, one array parameter per column
# (building and compiling a multi-row INSERT per recording transaction cost ~1 ms of CPU).
_PAGE_VALIDATORS_UPSERT = sa.text(
    f"INSERT INTO {VALIDATORS.name} (user_id, url, etag, last_modified, updated_at) "
    "SELECT :p_user_id, v.url, v.etag, v.last_modified, :p_now "
    "FROM unnest(CAST(:p_urls AS text[]), CAST(:p_etags AS text[]), CAST(:p_modified AS text[])) "
    "AS v(url, etag, last_modified) "
    "ON CONFLICT (user_id, url) DO UPDATE SET "
    "etag = excluded.etag, last_modified = excluded.last_modified, updated_at = excluded.updated_at"
).bindparams(sa.bindparam("p_now", type_=VALIDATORS.c.updated_at.type))


def store_page_validators(conn: sa.Connection, user_id: int, pages: dict[str, tuple], now: datetime) -> None:
    """The ETag / Last-Modified of pages just recorded, for the next run's conditional requests."""
    if not pages:
        return
    ordered = sorted(pages.items())
    if conn.dialect.name == "postgresql":
        conn.execute(
            _PAGE_VALIDATORS_UPSERT,
            {
                "p_user_id": user_id,
                "p_now": now,
                "p_urls": [url for url, _ in ordered],
                "p_etags": [v[0] for _, v in ordered],
                "p_modified": [v[1] for _, v in ordered],
            },
        )
        return
    rows = [
        {"user_id": user_id, "url": url, "etag": v[0], "last_modified": v[1], "updated_at": now} for url, v in ordered
    ]
    upsert_validators(conn, rows, with_listing=False)


_ACTIVE_VALIDATORS = (
    sa.select(VALIDATORS.c.url, VALIDATORS.c.etag, VALIDATORS.c.last_modified)
    .select_from(
        VALIDATORS.join(
            JOBS,
            sa.and_(
                JOBS.c.user_id == VALIDATORS.c.user_id, JOBS.c.source_url == VALIDATORS.c.url, JOBS.c.status == "active"
            ),
        )
    )
    .where(
        VALIDATORS.c.user_id == sa.bindparam("p_user_id"), VALIDATORS.c.url.in_(sa.bindparam("p_urls", expanding=True))
    )
)


def page_validators(conn: sa.Connection, by_user: dict[int, list[str]]) -> dict[tuple[int, str], tuple]:
    """(user_id, url) -> stored validators, only for pages whose job is active for that user (a
    304 can then only mean "this user's job is current")."""
    out: dict[tuple[int, str], tuple] = {}
    for user_id, urls in by_user.items():
        if urls:
            for row in conn.execute(_ACTIVE_VALIDATORS, {"p_user_id": user_id, "p_urls": sorted(set(urls))}):
                out[(user_id, row.url)] = (row.etag, row.last_modified)
    return out
