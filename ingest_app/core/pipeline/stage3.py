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
and tools that want stage 3 done before they go on. The messages are built and sent by
`pipeline/enqueue.py`.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from ingest_app.core import health
from ingest_app.core.crawl.types import CrawlError, ListedJob
from ingest_app.core.db import get_engine, worker_transaction
from ingest_app.core.jobs import active_jobs_by_company, archive_unlisted_jobs, count_active_jobs
from ingest_app.core.models import IngestionRun, IngestionRunItem, RunListing, utcnow
from ingest_app.core.pipeline import incremental
from ingest_app.core.pipeline.enqueue import SendFn, enqueue_items, enqueue_listings, pending_item_messages
from ingest_app.core.pipeline.listing import Listing
from ingest_app.core.pipeline.messages import ListingMessage
from ingest_app.core.pipeline.runs import fail_run
from ingest_app.core.settings import get_settings

log = logging.getLogger(__name__)

RUNS = IngestionRun.__table__
ITEMS = IngestionRunItem.__table__
LISTINGS = RunListing.__table__
_RESULT_KEYS = ("listed", "archived", "error", "skipped_reason", "cut", "cut_reason", "archive_rule")


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
        run = _claim_stage3_end(conn, run_id, len(listings), now)
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
            verdict = verdicts.get(config.get("company_id"))
            active = active_by_company.get(config.get("company_id"))
            entry = _company_result(
                conn, run_id, run.user_id, config, listing, verdict, listed_anywhere, now, active=active
            )
            archived_total += entry["archived"]
            cut = _add_items(items, run_id, config, listing, run_limit, now)
            if cut:
                _note_cut(entry, cut, len(listing.jobs), run_limit)
            results.append(entry)
        return _end_stage3(conn, run_id, run.user_id, listings, items, results, archived_total, now)


def _claim_stage3_end(conn: sa.Connection, run_id: int, companies: int, now: Any) -> Any:
    """The run (user_id, companies) when this transaction is the one ending its stage 3, else None.

    An UPDATE first: it takes the run row lock (PostgreSQL) or the write lock (SQLite); of two
    finishers the second waits, then matches nothing."""
    return conn.execute(
        sa.update(RUNS)
        .where(
            RUNS.c.run_id == run_id,
            RUNS.c.status == "archiving",
            _listed_count(run_id) >= companies,
        )
        .values(last_heartbeat=now)
        .returning(RUNS.c.user_id, RUNS.c.companies)
    ).first()


def _why_not_archived(
    conn: sa.Connection, user_id: int, company_id: int | None, listing: Listing, verdict: health.ArchiveVerdict | None
) -> str | None:
    """Why a company's unlisted jobs are kept this run, or None when the archive rules allow it."""
    if listing.error is not None:
        return "listing failed; archiving skipped"
    if listing.incomplete:
        return f"{listing.incomplete}; archiving skipped"
    if company_id is not None and not listing.jobs and (verdict is None or not verdict.archive):
        active = count_active_jobs(conn, user_id=user_id, company_id=company_id)
        if active:
            jobs = "1 job is" if active == 1 else f"{active} jobs are"
            return f"listed no jobs while {jobs} active; archiving skipped"
    return None


def _company_result(
    conn: sa.Connection,
    run_id: int,
    user_id: int,
    config: dict[str, Any],
    listing: Listing,
    verdict: health.ArchiveVerdict | None,
    listed_anywhere: set[str],
    now: Any,
    active: Any = None,
) -> dict[str, Any]:
    """One company's entry in the run's results, its unlisted jobs archived when the rules allow
    (`active`: the company's active jobs, read for every company of the run in one query)."""
    company_id = config.get("company_id")
    entry = {k: v for k, v in config.items() if k not in _RESULT_KEYS}
    entry.update(
        listed=None if listing.error is not None else len(listing.jobs),
        archived=0,
        error=listing.error_text,
        skipped_reason=_why_not_archived(conn, user_id, company_id, listing, verdict),
    )
    if company_id is not None and entry["skipped_reason"] is None:
        entry["archived"] = archive_unlisted_jobs(
            conn,
            user_id=user_id,
            company_id=company_id,
            listed_urls=listed_anywhere,
            now=now,
            run_id=run_id,
            active=active,
        )
    if verdict is not None:
        entry["archive_rule"] = verdict.rule
    return entry


def _add_items(
    items: dict[str, dict[str, Any]], run_id: int, config: dict[str, Any], listing: Listing, limit: int, now: Any
) -> int:
    """Add the company's listed URLs not seen yet to `items` (URL -> item row), at most `limit`
    in all; how many were cut by the limit."""
    cut = 0
    for job in listing.jobs:
        if job.url in items:
            continue
        if len(items) >= limit:
            cut += 1
            continue
        items[job.url] = {
            "run_id": run_id,
            "company_id": config.get("company_id"),
            "company": str(config.get("name") or "")[:200],
            "url": job.url,
            "hints": job.hints or {},
            "posting": listing.postings.get(job.url),
            "state": "pending",
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
    return cut


def _note_cut(entry: dict[str, Any], cut: int, listed: int, limit: int) -> None:
    entry["cut"] = cut
    entry["cut_reason"] = f"{cut} of {listed} listed job URLs not crawled: a run crawls at most {limit} job URLs"
    entry["skipped_reason"] = "; ".join(filter(None, [entry["skipped_reason"], entry["cut_reason"]]))


def _end_stage3(
    conn: sa.Connection,
    run_id: int,
    user_id: int,
    listings: list[Listing],
    items: dict[str, dict[str, Any]],
    results: list[dict[str, Any]],
    archived_total: int,
    now: Any,
) -> str:
    """Insert the items, finish the unchanged ones, and move the run to `ingesting` (or
    `completed` when nothing is left to crawl); the new status."""
    _insert_items(conn, list(items.values()))
    incremental.store_listings(conn, user_id, listings, now)
    updated = {url: when for listing in listings for url, when in listing.updated.items() if url in items}
    unchanged = incremental.finish_unchanged(conn, run_id, user_id, updated, now)
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


def missing_listing_messages(run_id: int) -> list[ListingMessage]:
    """Listing messages for the companies of an archiving run whose listing is not recorded yet."""
    with get_engine().connect() as conn:
        run = _stage3_state(conn, run_id)
        if run is None or run.status != "archiving":
            return []
        done = _listed_indexes(conn, run_id)
    return [
        ListingMessage(run_id=run_id, company_index=index, company=str(config.get("name") or "")[:200])
        for index, config in enumerate(run.companies)
        if index not in done
    ]


def begin_stage3(run_id: int, send: SendFn | None = None) -> int:
    """Enqueue the listing messages of a committed `archiving` run (what starting a run does in
    the web process: no listing there). A queue that refuses them fails the run with the
    reason. The number sent."""
    return enqueue_listings(run_id, missing_listing_messages(run_id), send)


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
        messages = pending_item_messages(conn, run_id)
    stored = time.monotonic()
    sent = enqueue_items(run_id, messages, send)
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
        messages = missing_listing_messages(run_id)
        if not messages:
            finish_stage3(run_id, send)  # every listing recorded already (or not archiving: no-op)
            return
        workers = max(1, min(len(messages), get_settings().stage3_list_concurrency))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stage3-list") as pool:
            list(pool.map(lambda m: process_listing(run_id, m.company_index, send=send), messages))
    except Exception as exc:
        log.exception("stage 3 of run %s failed", run_id)
        try:
            with get_engine().begin() as conn:
                fail_run(conn, run_id, f"Stage 3 failed: {type(exc).__name__}: {exc}")
        except Exception:
            log.exception("could not mark run %s failed", run_id)
        raise
