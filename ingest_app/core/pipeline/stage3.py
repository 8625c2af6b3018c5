"""Stage 3: list every company of the run, archive what disappeared, create items, enqueue.

Stage 3 runs in the worker fleet. Starting a run commits it and sends one *listing message* per
company (`begin_stage3`); the web process never lists. A worker handling a listing message
(`process_listing`) lists that company outside any transaction (network I/O), then records the
result once (`record_listing`: a `run_listings` row inserted with ON CONFLICT DO NOTHING while
holding the run row lock, so a duplicate delivery records nothing and recordings of one run are
serialized). The worker whose recording makes the run's `run_listings` rows as many as its
companies ends stage 3 (`finish_stage3`): one transaction, holding the run row lock, archives,
inserts the items and moves the run to `ingesting` (or straight to `completed` when nothing is
listed) by an UPDATE guarded on `status='archiving'` and every company's listing recorded; it
commits before the first item message is sent, and of two finishers only one UPDATE matches.
`ingestion_runs` keeps its specified columns: the count is read from `run_listings`.

`run_stage3` drives the same path inline (every company's listing processed here), for the CLI
and tools that want stage 3 done before they go on.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlmodel import Session

from ingest_app.core import health, listing_pool
from ingest_app.core.companies import get_company
from ingest_app.core.crawl.types import CrawlError, ListedJob
from ingest_app.core.db import get_engine, session_scope, worker_transaction
from ingest_app.core.jobs import active_jobs_by_company, archive_unlisted_jobs, count_active_jobs
from ingest_app.core.models import Company, IngestionRun, IngestionRunItem, RunListing, utcnow
from ingest_app.core.pipeline import incremental
from ingest_app.core.pipeline.listing import Listing, list_company
from ingest_app.core.pipeline.read_models import ListingError, PreviewResult
from ingest_app.core.pipeline.runs import fail_run
from ingest_app.core.settings import get_settings

log = logging.getLogger(__name__)

RUNS = IngestionRun.__table__
ITEMS = IngestionRunItem.__table__
LISTINGS = RunListing.__table__
LISTING_MESSAGE = "listing"  # the `type` of a listing message; item messages carry "item" (or none)
SEND_CHUNK = 500
_RESULT_KEYS = ("listed", "archived", "error", "skipped_reason", "cut", "cut_reason", "archive_rule")
_PREVIEW_GRACE = 5.0  # seconds a waiting caller allows beyond the preview deadline

SendFn = Callable[[list[dict[str, Any]]], Any]


_send: SendFn | None = None


def set_default_send(send: SendFn | None) -> SendFn | None:
    """Inject the queue port used when no `send` is passed (None: the SQS queue); the previous."""
    global _send
    previous, _send = _send, send
    return previous


def default_send() -> SendFn:
    if _send is not None:
        return _send
    from ingest_app.core.queue import send_messages

    return send_messages


def item_body(run_id: int, item_id: int, url: str, company: str, hints: dict[str, Any] | None) -> dict[str, Any]:
    return {"type": "item", "run_id": run_id, "item_id": item_id, "url": url, "company": company, "hints": hints or {}}


_ITEM_COLUMNS = (
    "run_id",
    "company_id",
    "company",
    "url",
    "hints",
    "posting",
    "state",
    "attempts",
    "created_at",
    "updated_at",
)
# PostgreSQL: every row in one statement with one array parameter per column (a fixed text,
# cheap to send; a multi-row VALUES of thousands of rows is costly to build).
_INSERT_ITEMS_PG = sa.text(
    f"INSERT INTO {ITEMS.name} ({', '.join(_ITEM_COLUMNS)}) SELECT * FROM unnest("
    "CAST(:run_id AS integer[]), CAST(:company_id AS integer[]), CAST(:company AS text[]), CAST(:url AS text[]), "
    "CAST(:hints AS jsonb[]), CAST(:posting AS jsonb[]), CAST(:state AS text[]), CAST(:attempts AS integer[]), "
    "CAST(:created_at AS timestamptz[]), CAST(:updated_at AS timestamptz[])"
    ") ON CONFLICT (run_id, url) DO NOTHING"
)


def _insert_items(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        for start in range(0, len(rows), 10_000):
            chunk = rows[start : start + 10_000]
            params = {name: [row[name] for row in chunk] for name in _ITEM_COLUMNS}
            params["hints"] = [json.dumps(hints or {}) for hints in params["hints"]]
            params["posting"] = [None if p is None else json.dumps(p) for p in params["posting"]]
            conn.execute(_INSERT_ITEMS_PG, params)
        return
    insert = sqlite.insert
    for start in range(0, len(rows), 1000):
        stmt = (
            insert(ITEMS)
            .values(rows[start : start + 1000])
            .on_conflict_do_nothing(index_elements=[ITEMS.c.run_id, ITEMS.c.url])
        )
        conn.execute(stmt)


def _outcomes(
    conn: sa.Connection, user_id: int, companies: list[dict[str, Any]], listings: list[Listing]
) -> list[health.ListingOutcome]:
    """Each company's listing for the health record; an empty listing carries the active-job count
    the empty-board rule needs."""
    out = []
    for config, listing in zip(companies, listings, strict=True):
        company_id = config.get("company_id")
        if company_id is None:
            continue
        empty = listing.error is None and not listing.jobs
        active = count_active_jobs(conn, user_id=user_id, company_id=company_id) if empty else 0
        out.append(health.ListingOutcome.from_listing(company_id, str(config.get("source") or ""), listing, active))
    return out


def _apply_listings(run_id: int, listings: list[Listing]) -> str | None:
    """The stage-3 transaction; the run's new status, or None when the run was not archiving
    (or not every company's listing is recorded yet)."""
    now = utcnow()
    with get_engine().begin() as conn:
        # An UPDATE first: it takes the run row lock (PostgreSQL) or the write lock (SQLite);
        # of two finishers the second waits, then matches nothing.
        run = conn.execute(
            sa.update(RUNS)
            .where(
                RUNS.c.run_id == run_id,
                RUNS.c.status == "archiving",
                _listed_count(run_id) >= len(listings),
            )
            .values(last_heartbeat=now)
            .returning(RUNS.c.user_id, RUNS.c.companies)
        ).first()
        if run is None:
            return None
        results: list[dict[str, Any]] = []
        items: dict[str, dict[str, Any]] = {}
        run_limit = get_settings().ingest_max_jobs_per_run
        archived_total = 0
        # A URL still listed by any company of this run is never archived (it moved between boards).
        listed_anywhere = {job.url for listing in listings for job in listing.jobs}
        verdicts = health.record_listings(conn, run_id, _outcomes(conn, run.user_id, run.companies, listings), now=now)
        active_by_company = active_jobs_by_company(
            conn, user_id=run.user_id, company_ids={c["company_id"] for c in run.companies if c.get("company_id")}
        )
        for config, listing in zip(run.companies, listings, strict=True):
            entry = {k: v for k, v in config.items() if k not in _RESULT_KEYS}
            entry.update(listed=len(listing.jobs), archived=0, error=listing.error_text, skipped_reason=None)
            company_id = config.get("company_id")
            urls = {job.url for job in listing.jobs}
            if listing.error is not None:
                entry["listed"] = None
                entry["skipped_reason"] = "listing failed; archiving skipped"
            elif listing.incomplete:
                entry["skipped_reason"] = f"{listing.incomplete}; archiving skipped"
            elif company_id is not None:
                verdict = verdicts.get(company_id)
                if not urls and (verdict is None or not verdict.archive):
                    active = count_active_jobs(conn, user_id=run.user_id, company_id=company_id)
                    if active:
                        jobs = "1 job is" if active == 1 else f"{active} jobs are"
                        entry["skipped_reason"] = f"listed no jobs while {jobs} active; archiving skipped"
                if entry["skipped_reason"] is None:
                    entry["archived"] = archive_unlisted_jobs(
                        conn,
                        user_id=run.user_id,
                        company_id=company_id,
                        listed_urls=listed_anywhere,
                        now=now,
                        run_id=run_id,
                        active=active_by_company.get(company_id),
                    )
                    archived_total += entry["archived"]
            if company_id in verdicts:
                entry["archive_rule"] = verdicts[company_id].rule
            cut = 0
            for job in listing.jobs:
                if job.url not in items:
                    if len(items) >= run_limit:
                        cut += 1
                        continue
                    items[job.url] = {
                        "run_id": run_id,
                        "company_id": company_id,
                        "company": str(config.get("name") or "")[:200],
                        "url": job.url,
                        "hints": job.hints or {},
                        "posting": listing.postings.get(job.url),
                        "state": "pending",
                        "attempts": 0,
                        "created_at": now,
                        "updated_at": now,
                    }
            if cut:
                entry["cut"] = cut
                entry["cut_reason"] = (
                    f"{cut} of {len(listing.jobs)} listed job URLs not crawled: "
                    f"a run crawls at most {run_limit} job URLs"
                )
                entry["skipped_reason"] = "; ".join(filter(None, [entry["skipped_reason"], entry["cut_reason"]]))
            results.append(entry)
        _insert_items(conn, list(items.values()))
        incremental.store_listings(conn, run.user_id, listings, now)
        updated = {url: when for listing in listings for url, when in listing.updated.items() if url in items}
        unchanged = incremental.finish_unchanged(conn, run_id, run.user_id, updated, now)
        total = conn.execute(sa.select(sa.func.count()).select_from(ITEMS).where(ITEMS.c.run_id == run_id)).scalar_one()
        values: dict[str, Any] = {
            "companies": results,
            "total_jobs_found": total,
            "jobs_processed": unchanged,
            "jobs_archived": archived_total,
            "last_heartbeat": now,
        }
        if total == 0 or unchanged >= total:
            values.update(status="completed", current_stage=5, completed_at=now)
        else:
            values.update(status="ingesting", current_stage=4)
        conn.execute(sa.update(RUNS).where(RUNS.c.run_id == run_id).values(**values))
        return values["status"]


def pending_bodies(conn: sa.Connection, run_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(ITEMS.c.id, ITEMS.c.url, ITEMS.c.company, ITEMS.c.hints)
        .where(ITEMS.c.run_id == run_id, ITEMS.c.state == "pending")
        .order_by(ITEMS.c.id)
    ).all()
    return [item_body(run_id, r.id, r.url, r.company, r.hints) for r in _across_hosts(rows)]


def _across_hosts(rows: list[Any]) -> list[Any]:
    """The rows taken in turn from each host (in id order within a host): a batch of 10 messages
    then asks 10 hosts for a page each, instead of one host for 10 pages, which its per-host
    limit would serialize while the rest of the batch waits."""
    by_host: dict[str, list[Any]] = {}
    for row in rows:
        by_host.setdefault(urlsplit(row.url).netloc, []).append(row)
    if len(by_host) < 2:
        return rows
    return [row for turn in itertools.zip_longest(*by_host.values()) for row in turn if row is not None]


def _run_status(run_id: int) -> str | None:
    with get_engine().connect() as conn:
        return conn.execute(sa.select(RUNS.c.status).where(RUNS.c.run_id == run_id)).scalar()


def enqueue(run_id: int, bodies: list[dict[str, Any]], send: SendFn | None = None) -> int:
    """Send the bodies; a send that keeps failing fails the run with the reason. The number sent."""
    send = send or default_send()
    sent = 0
    try:
        for chunk in _chunks(bodies, SEND_CHUNK):
            if sent and _run_status(run_id) != "ingesting":
                break  # reset meanwhile: the rest would only be skipped by the workers
            send(chunk)
            sent += len(chunk)
    except Exception as exc:
        log.exception("enqueueing run %s failed", run_id)
        with get_engine().begin() as conn:
            fail_run(
                conn,
                run_id,
                f"Could not enqueue {len(bodies) - sent} of {len(bodies)} jobs: {exc}",
                statuses=("ingesting",),
            )
    return sent


def _chunks(items: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def listing_body(run_id: int, company_index: int, company: str) -> dict[str, Any]:
    return {"type": LISTING_MESSAGE, "run_id": run_id, "company_index": company_index, "company": company}


def _listing_row(run_id: int, index: int, listing: Listing) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "company_index": index,
        "jobs": [
            {"url": j.url, "title": j.title, "external_id": j.external_id, "hints": j.hints} for j in listing.jobs
        ],
        "error_kind": None if listing.error is None else listing.error.kind,
        "error_reason": None if listing.error is None else listing.error.reason,
        "incomplete": listing.incomplete,
        "extra": incremental.listing_extra(listing),
        "listed_at": utcnow(),
    }


def _listing_of(row: Any) -> Listing:
    error = None if row.error_kind is None else CrawlError(row.error_kind, row.error_reason or "")
    jobs = [
        ListedJob(url=j["url"], title=j.get("title"), external_id=j.get("external_id"), hints=j.get("hints") or {})
        for j in row.jobs or []
    ]
    return Listing(jobs=jobs, error=error, incomplete=row.incomplete, **incremental.listing_extra_fields(row.extra))


def _stage3_state(conn: sa.Connection, run_id: int) -> Any:
    return conn.execute(
        sa.select(RUNS.c.status, RUNS.c.companies, RUNS.c.user_id, _listed_count(run_id).label("listed")).where(
            RUNS.c.run_id == run_id
        )
    ).first()


def _listed_count(run_id: int) -> sa.ScalarSelect:
    return sa.select(sa.func.count()).select_from(LISTINGS).where(LISTINGS.c.run_id == run_id).scalar_subquery()


def _listed_indexes(conn: sa.Connection, run_id: int) -> set[int]:
    return set(conn.execute(sa.select(LISTINGS.c.company_index).where(LISTINGS.c.run_id == run_id)).scalars())


def missing_listing_bodies(run_id: int) -> list[dict[str, Any]]:
    """Listing messages for the companies of an archiving run whose listing is not recorded yet."""
    with get_engine().connect() as conn:
        run = _stage3_state(conn, run_id)
        if run is None or run.status != "archiving":
            return []
        done = _listed_indexes(conn, run_id)
    return [
        listing_body(run_id, index, str(config.get("name") or "")[:200])
        for index, config in enumerate(run.companies)
        if index not in done
    ]


def begin_stage3(run_id: int, send: SendFn | None = None) -> int:
    """Enqueue the listing messages of a committed `archiving` run (what starting a run does in
    the web process: no listing there). A queue that refuses them fails the run with the
    reason. The number sent."""
    bodies = missing_listing_bodies(run_id)
    send = send or default_send()
    try:
        for chunk in _chunks(bodies, SEND_CHUNK):
            send(chunk)
    except Exception as exc:
        log.exception("enqueueing stage 3 of run %s failed", run_id)
        with get_engine().begin() as conn:
            message = f"Could not enqueue stage 3 ({len(bodies)} listings): {exc}"
            fail_run(conn, run_id, message, statuses=("archiving",))
        return 0
    return len(bodies)


def record_listing(run_id: int, company_index: int, listing: Listing) -> tuple[bool, bool]:
    """Record one company's listing once: (recorded, last), where `last` says every company of
    the run is listed now (the caller then finishes stage 3). The row is inserted first, then the
    run row lock serializes the recordings of one run for the count (each sees its own row and
    every committed one), so exactly one of them sees the last count; the lock is held only for
    the count and the commit. The commit does not wait for the disk flush: one lost in a crash
    leaves that listing missing, and the stale detector sends its message again."""
    row = _listing_row(run_id, company_index, listing)
    with get_engine().begin() as conn:
        # A lock held elsewhere: a lock timeout, the message comes back.
        worker_transaction(conn, relax_commit=True)
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects import postgresql as pg

            stmt = pg.insert(LISTINGS).values(**row).on_conflict_do_nothing()
        else:
            stmt = sqlite.insert(LISTINGS).values(**row).on_conflict_do_nothing()
        if conn.execute(stmt.returning(LISTINGS.c.run_id)).first() is None:
            return False, False  # a duplicate delivery: recorded before
        alive = conn.execute(
            sa.update(RUNS)
            .where(RUNS.c.run_id == run_id, RUNS.c.status == "archiving")
            .values(last_heartbeat=utcnow())
            .returning(RUNS.c.companies)
        ).first()
        if alive is None:
            conn.rollback()  # the run left stage 3: nothing of this listing stays
            return False, False
        listed = conn.execute(sa.select(_listed_count(run_id))).scalar_one()
    return True, listed >= len(alive.companies)


def finish_stage3(run_id: int, send: SendFn | None = None) -> str | None:
    """End stage 3 from the recorded listings (exactly once: see `_apply_listings`), then send
    the item messages. The run's new status, or None when this call did not end stage 3."""
    with get_engine().connect() as conn:
        run = _stage3_state(conn, run_id)
        if run is None or run.status != "archiving" or run.listed < len(run.companies):
            return None
        rows = {r.company_index: r for r in conn.execute(sa.select(LISTINGS).where(LISTINGS.c.run_id == run_id))}
    if len(rows) < len(run.companies):
        return None
    listed = time.monotonic()
    status = _apply_listings(run_id, [_listing_of(rows[i]) for i in range(len(run.companies))])
    if status != "ingesting":
        return status
    with get_engine().connect() as conn:
        bodies = pending_bodies(conn, run_id)
    stored = time.monotonic()
    sent = enqueue(run_id, bodies, send)
    log.info(
        "stage 3 of run %s ended: items stored in %.2f s, %d message(s) sent in %.2f s",
        run_id,
        stored - listed,
        sent,
        time.monotonic() - stored,
    )
    return status


def process_listing(run_id: int, company_index: int, *, send: SendFn | None = None) -> str:
    """A listing message: list that company of an archiving run, record it once, and end stage 3
    when it was the last. "listed" or "skipped" (run not archiving, duplicate, unknown company).
    HostBusy and database errors propagate: the message should come back."""
    with get_engine().connect() as conn:
        run = _stage3_state(conn, run_id)
        if run is None or run.status != "archiving" or not 0 <= company_index < len(run.companies):
            return "skipped"
        if company_index in _listed_indexes(conn, run_id):
            if run.listed >= len(run.companies):
                # A redelivery after the recording worker failed to end stage 3: end it now
                # (guarded, so a stage 3 ended meanwhile is not ended twice).
                finish_stage3(run_id, send)
            return "skipped"
    listing = incremental.list_one(run.user_id, run.companies[company_index]["source"])
    recorded, last = record_listing(run_id, company_index, listing)
    if last:
        finish_stage3(run_id, send)
    return "listed" if recorded else "skipped"


def run_stage3(run_id: int, *, send: SendFn | None = None) -> None:
    """Stage 3 of an `archiving` run driven inline: every company's listing message is processed
    here (`stage3_list_concurrency` at once) through the worker's own path, then stage 4 starts.

    Any unexpected error marks the run failed with the reason, then propagates.
    """
    try:
        bodies = missing_listing_bodies(run_id)
        if not bodies:
            finish_stage3(run_id, send)  # every listing recorded already (or not archiving: no-op)
            return
        workers = max(1, min(len(bodies), get_settings().stage3_list_concurrency))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stage3-list") as pool:
            list(pool.map(lambda b: process_listing(run_id, b["company_index"], send=send), bodies))
    except Exception as exc:
        log.exception("stage 3 of run %s failed", run_id)
        try:
            with get_engine().begin() as conn:
                fail_run(conn, run_id, f"Stage 3 failed: {type(exc).__name__}: {exc}")
        except Exception:
            log.exception("could not mark run %s failed", run_id)
        raise


def _preview_result(company: Company, listing: Listing) -> PreviewResult:
    error = listing.error
    return PreviewResult.of(
        company_id=company.id or 0,
        name=company.name,
        source=company.source,
        urls=[job.url for job in listing.jobs],
        error=None if error is None else ListingError(kind=error.kind, reason=error.reason),
    )


def _preview_timed_out() -> Listing:
    seconds = get_settings().preview_timeout
    return Listing(error=CrawlError("timeout", f"the preview took longer than {seconds:g} s; stopped"))


def preview_company(session: Session, user_id: int, company_id: int) -> PreviewResult:
    """Stage 2 dry run: the URLs one of the user's companies lists now (nothing is written).

    The listing runs in the bounded preview pool under its deadline; raises PreviewBusy when the
    user (or the server) has too many previews in flight, CompanyNotFound for another's company."""
    company = get_company(session, user_id, company_id)
    pool = listing_pool.get_pool()
    future = pool.submit(user_id, lambda: list_company(company.source))
    try:
        listing = future.result(timeout=pool.timeout + _PREVIEW_GRACE)
    except FutureTimeout:
        listing = _preview_timed_out()
    return _preview_result(company, listing)


def _preview_in_pool(user_id: int, company_id: int, found: list[Company]) -> PreviewResult:
    with session_scope() as session:
        company = get_company(session, user_id, company_id)
    found.append(company)
    return _preview_result(company, list_company(company.source))


async def preview_company_async(user_id: int, company_id: int) -> PreviewResult:
    """`preview_company` for async callers (the API route, the UI): the company lookup and the
    listing both run in the preview pool, and the caller awaits without holding any thread."""
    pool = listing_pool.get_pool()
    found: list[Company] = []
    future = pool.submit(user_id, lambda: _preview_in_pool(user_id, company_id, found))
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout=pool.timeout + _PREVIEW_GRACE)
    except TimeoutError:
        if not found:  # the lookup itself did not finish (database stuck): no result to show
            raise
        return _preview_result(found[0], _preview_timed_out())
