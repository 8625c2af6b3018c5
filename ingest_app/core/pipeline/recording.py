"""The worker side: record one item's result exactly once; complete the run exactly once.

At-least-once delivery means the same message can arrive twice, concurrently, or after a reset.
One transaction per item:

1. guarded transition `pending -> succeeded|failed` of the item (only while the run is ingesting);
2. only if that changed a row: upsert the job, increment the run counters with SQL (guarded by
   `status='ingesting'` again: it takes the run row lock, so a reset that committed first makes it
   match nothing and the whole transaction rolls back), refresh the heartbeat;
3. the completion UPDATE, which only the transaction that brings `jobs_processed` up to
   `total_jobs_found` can match.

The worker records a whole SQS batch the same way in ONE transaction per run
(`record_item_results`): the pending items locked in id order, their guarded transitions, the job
upserts of the items that moved (in source URL order), one counter increment by the number of
items that moved, the heartbeat, then the completion UPDATE. Lock order is always items, jobs, run
row, so concurrent batches (duplicate deliveries grouped differently) wait for each other instead
of deadlocking. `process_items` checks a batch's items with one query before crawling them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ingest_app.core.crawl.types import CrawlError, Posting
from ingest_app.core.db import get_engine
from ingest_app.core.jobs import job_row, upsert_job, upsert_jobs_postgresql
from ingest_app.core.models import Company, IngestionRun, IngestionRunItem, utcnow
from ingest_app.core.settings import get_settings

log = logging.getLogger(__name__)

RUNS = IngestionRun.__table__
ITEMS = IngestionRunItem.__table__
COMPANIES = Company.__table__


# The hot path's statements, built once; each call only binds parameters.
_RUN_ID = sa.bindparam("p_run_id")
_COMPLETE = (
    sa.update(RUNS)
    .where(RUNS.c.run_id == _RUN_ID, RUNS.c.status == "ingesting", RUNS.c.jobs_processed >= RUNS.c.total_jobs_found)
    .values(
        status="completed", current_stage=5, completed_at=sa.bindparam("p_now"), last_heartbeat=sa.bindparam("p_now")
    )
)
_FINISH_ITEM = (
    sa.update(ITEMS)
    .where(
        ITEMS.c.id == sa.bindparam("p_item_id"),
        ITEMS.c.run_id == _RUN_ID,
        ITEMS.c.state == "pending",
        sa.exists().where(RUNS.c.run_id == _RUN_ID, RUNS.c.status == "ingesting"),
    )
    .values(
        state=sa.bindparam("p_state"),
        error=sa.bindparam("p_error"),
        attempts=ITEMS.c.attempts + 1,
        finished_at=sa.bindparam("p_now"),
        updated_at=sa.bindparam("p_now"),
    )
    .returning(ITEMS.c.company_id, ITEMS.c.company, ITEMS.c.url)
)
# The company may have been deleted since stage 3: then the job keeps no company_id.
_OWNER = (
    sa.select(RUNS.c.user_id, COMPANIES.c.id.label("company_id"))
    .select_from(
        RUNS.outerjoin(
            COMPANIES,
            sa.and_(COMPANIES.c.id == sa.bindparam("p_company_id"), COMPANIES.c.user_id == RUNS.c.user_id),
        )
    )
    .where(RUNS.c.run_id == _RUN_ID)
)
_COUNT = (
    sa.update(RUNS)
    .where(RUNS.c.run_id == _RUN_ID, RUNS.c.status == "ingesting")
    .values(
        jobs_processed=RUNS.c.jobs_processed + sa.bindparam("p_processed", type_=sa.Integer),
        jobs_added=RUNS.c.jobs_added + sa.bindparam("p_added", type_=sa.Integer),
        jobs_failed=RUNS.c.jobs_failed + sa.bindparam("p_failed", type_=sa.Integer),
        last_heartbeat=sa.bindparam("p_now"),
    )
    .returning(RUNS.c.jobs_processed, RUNS.c.total_jobs_found)
)


def complete_if_done(conn: sa.Connection, run_id: int) -> bool:
    """The one completion UPDATE; True only for the caller whose UPDATE matched."""
    return conn.execute(_COMPLETE, {"p_run_id": run_id, "p_now": utcnow()}).rowcount == 1


def record_item_result(run_id: int, item_id: int, *, posting: Posting | None, error: str | None) -> bool:
    """Record the outcome of one item; True when this call moved it out of `pending`.

    `posting` for a success, `error` (e.g. "not_found: HTTP 404") for a failure. Returns False
    for a duplicate delivery, an unknown item, or a run that is no longer ingesting; nothing
    changes then.
    """
    if (posting is None) == (error is None):
        raise ValueError("pass exactly one of posting or error")
    succeeded = posting is not None
    now = utcnow()
    with get_engine().connect() as conn:
        with conn.begin() as tx:
            if conn.dialect.name == "postgresql" and not get_settings().worker_synchronous_commit:
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            item = conn.execute(
                _FINISH_ITEM,
                {
                    "p_run_id": run_id,
                    "p_item_id": item_id,
                    "p_state": "succeeded" if succeeded else "failed",
                    "p_error": None if succeeded else error[:4000],
                    "p_now": now,
                },
            ).first()
            if item is None:
                tx.rollback()
                return False
            added = False
            if succeeded:
                owner = conn.execute(_OWNER, {"p_run_id": run_id, "p_company_id": item.company_id}).one()
                added = upsert_job(
                    conn,
                    user_id=owner.user_id,
                    company_id=owner.company_id,
                    company=item.company,
                    source_url=item.url,
                    posting=posting,
                    run_id=run_id,
                    now=now,
                )
            counters = conn.execute(
                _COUNT,
                {
                    "p_run_id": run_id,
                    "p_processed": 1,
                    "p_added": int(added),
                    "p_failed": int(not succeeded),
                    "p_now": now,
                },
            ).first()
            if counters is None:
                # The run left `ingesting` (reset, failed) after the item update began: change nothing.
                tx.rollback()
                return False
            if counters.jobs_processed >= counters.total_jobs_found and complete_if_done(conn, run_id):
                log.info("run %s completed", run_id)
    return True


_OPEN_ITEM = (
    sa.select(RUNS.c.status, ITEMS.c.state)
    .select_from(ITEMS.join(RUNS, RUNS.c.run_id == ITEMS.c.run_id))
    .where(ITEMS.c.id == sa.bindparam("p_item_id"), ITEMS.c.run_id == _RUN_ID)
)


def _item_is_open(run_id: int, item_id: int) -> bool:
    """Cheap pre-check: the run is ingesting and the item still pending."""
    with get_engine().connect() as conn:
        row = conn.execute(_OPEN_ITEM, {"p_item_id": item_id, "p_run_id": run_id}).first()
    return row is not None and row.status == "ingesting" and row.state == "pending"


def _crawl(body: dict[str, Any]) -> tuple[Posting | None, str | None]:
    """(posting, None) or (None, error) for one message; infrastructure errors raise."""
    from ingest_app.core.crawl import extract_job

    try:
        return extract_job(body["url"], body.get("hints") or {}), None
    except CrawlError as exc:
        return None, f"{exc.kind}: {exc.reason}"
    except (sa.exc.SQLAlchemyError, MemoryError):
        raise
    except Exception as exc:  # a crawler bug must not redeliver forever; record it on the item
        log.exception("extracting %s failed unexpectedly", body.get("url"))
        return None, f"internal_error: {type(exc).__name__}: {exc}"


def _record_one(run_id: int, item_id: int, url: Any, posting: Posting | None, error: str | None) -> str:
    """record_item_result, with a posting the database refuses recorded as a failed item."""
    try:
        recorded = record_item_result(run_id, item_id, posting=posting, error=error)
    except (sa.exc.DataError, sa.exc.IntegrityError) as exc:
        if posting is None:
            raise
        # The database refuses this posting's data; another delivery would fail the same way.
        log.warning("storing %s failed: %s", url, exc.orig)
        posting, error = None, f"invalid_data: the posting could not be stored ({type(exc.orig).__name__})"
        recorded = record_item_result(run_id, item_id, posting=None, error=error)
    if not recorded:
        return "skipped"
    return "succeeded" if posting is not None else "failed"


def process_item(body: dict[str, Any]) -> str:
    """Handle one queue message body: "skipped", "succeeded" or "failed".

    A crawl failure of any kind (after the crawler's own retries) is recorded as a failed item.
    Only infrastructure errors (the database unreachable) raise, so the message is redelivered.
    """
    run_id = int(body["run_id"])
    item_id = int(body["item_id"])
    if not _item_is_open(run_id, item_id):
        return "skipped"
    posting, error = _crawl(body)
    return _record_one(run_id, item_id, body.get("url"), posting, error)


# --- Batches: one pre-check query, concurrent crawls, one recording transaction per run ---------

_OPEN_ITEMS = (
    sa.select(ITEMS.c.id, ITEMS.c.run_id)
    .select_from(ITEMS.join(RUNS, RUNS.c.run_id == ITEMS.c.run_id))
    .where(
        ITEMS.c.id.in_(sa.bindparam("p_item_ids", expanding=True)),
        ITEMS.c.state == "pending",
        RUNS.c.status == "ingesting",
    )
)
# Row locks in item id order, so two transactions recording overlapping items (a duplicate
# delivery batched differently) queue behind each other instead of deadlocking.
_LOCK_PENDING = (
    sa.select(ITEMS.c.id)
    .where(
        ITEMS.c.run_id == _RUN_ID,
        ITEMS.c.id.in_(sa.bindparam("p_item_ids", expanding=True)),
        ITEMS.c.state == "pending",
    )
    .order_by(ITEMS.c.id)
    .with_for_update()
)
_FINISH_ITEMS = sa.text(
    """
    UPDATE ingestion_run_items AS i
    SET state = v.state, error = v.error, attempts = i.attempts + 1, finished_at = :p_now, updated_at = :p_now
    FROM unnest(CAST(:p_ids AS integer[]), CAST(:p_states AS text[]), CAST(:p_errors AS text[])) AS v(id, state, error)
    WHERE i.id = v.id AND i.run_id = :p_run_id AND i.state = 'pending'
      AND EXISTS (SELECT 1 FROM ingestion_runs AS r WHERE r.run_id = :p_run_id AND r.status = 'ingesting')
    RETURNING i.id, i.company_id, i.company, i.url
    """
).columns(
    sa.column("id", sa.Integer),
    sa.column("company_id", sa.Integer),
    sa.column("company", sa.String),
    sa.column("url", sa.String),
)
_OWNERS = (
    sa.select(RUNS.c.user_id, COMPANIES.c.id.label("company_id"))
    .select_from(
        RUNS.outerjoin(
            COMPANIES,
            sa.and_(
                COMPANIES.c.id.in_(sa.bindparam("p_company_ids", expanding=True)),
                COMPANIES.c.user_id == RUNS.c.user_id,
            ),
        )
    )
    .where(RUNS.c.run_id == _RUN_ID)
)


@dataclass
class ItemResult:
    """One crawled item to record: `posting` for a success, `error` for a failure."""

    run_id: int
    item_id: int
    url: Any = None
    posting: Posting | None = None
    error: str | None = None


def open_item_ids(pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (run_id, item_id) pairs whose run is ingesting and whose item is still pending: one query."""
    pairs = list(pairs)
    if not pairs:
        return set()
    with get_engine().connect() as conn:
        rows = conn.execute(_OPEN_ITEMS, {"p_item_ids": sorted({item for _, item in pairs})}).all()
    found = {(row.run_id, row.id) for row in rows}
    return {pair for pair in pairs if pair in found}


def _record_run_batch(run_id: int, results: list[ItemResult]) -> dict[int, str]:
    """Record several items of one run in ONE transaction (PostgreSQL): item_id -> outcome.

    Same guarantees as record_item_result for each item: the guarded transitions (row locks taken
    in item id order), the job upserts of the items that moved (source URL order), ONE counter
    increment by the number of items actually moved, the heartbeat, then the completion UPDATE.
    A run that is not ingesting changes nothing ("skipped" for all).
    """
    by_id = {r.item_id: r for r in sorted(results, key=lambda r: r.item_id)}
    outcomes = dict.fromkeys(by_id, "skipped")
    now = utcnow()
    with get_engine().connect() as conn:
        with conn.begin() as tx:
            if not get_settings().worker_synchronous_commit:
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            pending = conn.execute(_LOCK_PENDING, {"p_run_id": run_id, "p_item_ids": list(by_id)}).scalars().all()
            if not pending:
                tx.rollback()
                return outcomes
            moved = conn.execute(
                _FINISH_ITEMS,
                {
                    "p_run_id": run_id,
                    "p_ids": pending,
                    "p_states": ["succeeded" if by_id[i].posting is not None else "failed" for i in pending],
                    "p_errors": [None if by_id[i].posting is not None else by_id[i].error[:4000] for i in pending],
                    "p_now": now,
                },
            ).all()
            if not moved:
                tx.rollback()
                return outcomes
            succeeded = [row for row in moved if by_id[row.id].posting is not None]
            n_added = 0
            if succeeded:
                company_ids = sorted({row.company_id for row in succeeded if row.company_id is not None})
                owners = conn.execute(_OWNERS, {"p_run_id": run_id, "p_company_ids": company_ids}).all()
                user_id = owners[0].user_id
                existing = {o.company_id for o in owners if o.company_id is not None}
                # Distinct URLs: an item's URL is unique within its run (uq_ingestion_run_items_run_url).
                rows = [
                    job_row(
                        user_id=user_id,
                        company_id=row.company_id if row.company_id in existing else None,
                        company=row.company,
                        source_url=row.url,
                        posting=by_id[row.id].posting,
                        run_id=run_id,
                        now=now,
                    )
                    for row in succeeded
                ]
                n_added = sum(upsert_jobs_postgresql(conn, rows).values())
            counters = conn.execute(
                _COUNT,
                {
                    "p_run_id": run_id,
                    "p_processed": len(moved),
                    "p_added": n_added,
                    "p_failed": len(moved) - len(succeeded),
                    "p_now": now,
                },
            ).first()
            if counters is None:
                # The run left `ingesting` (reset, failed) after the item updates began: change nothing.
                tx.rollback()
                return outcomes
            if counters.jobs_processed >= counters.total_jobs_found and complete_if_done(conn, run_id):
                log.info("run %s completed", run_id)
    for row in moved:
        outcomes[row.id] = "succeeded" if by_id[row.id].posting is not None else "failed"
    return outcomes


def record_item_results(results: list[ItemResult]) -> list[str | BaseException]:
    """Record crawled items: per result "succeeded", "failed", "skipped" (a duplicate, or a run no
    longer ingesting) or the infrastructure exception that kept it from being recorded (nothing
    of it changed then; the message should be delivered again).

    On PostgreSQL the items of one run go in one transaction; a posting the database refuses
    sends that run's items through the one-by-one path, where it becomes a failed item.
    """
    for r in results:
        if (r.posting is None) == (r.error is None):
            raise ValueError("pass exactly one of posting or error")
    out: list[str | BaseException] = ["skipped"] * len(results)
    groups: dict[int, list[int]] = {}
    for index, r in enumerate(results):
        groups.setdefault(r.run_id, []).append(index)
    postgres = get_engine().dialect.name == "postgresql"
    for run_id in sorted(groups):
        indexes = groups[run_id]
        first: dict[int, int] = {}
        for index in indexes:  # the same item twice in one batch: the second is a duplicate
            first.setdefault(results[index].item_id, index)
        unique = [results[i] for i in first.values()]
        if postgres:
            try:
                done = _record_run_batch(run_id, unique)
                for item_id, index in first.items():
                    out[index] = done[item_id]
                continue
            except (sa.exc.DataError, sa.exc.IntegrityError):
                log.warning("recording run %s's batch failed on its data; recording its items one by one", run_id)
            except Exception as exc:  # infrastructure: none of these items changed
                for index in first.values():
                    out[index] = exc
                continue
        for item_id, index in first.items():
            r = results[index]
            try:
                out[index] = _record_one(run_id, item_id, r.url, r.posting, r.error)
            except Exception as exc:  # infrastructure: this item did not change
                out[index] = exc
    return out


def process_items(
    bodies: list[dict[str, Any]],
    *,
    map_fn: Callable[[Callable[[dict[str, Any]], Any], list[dict[str, Any]]], Iterator[Any]] = map,
) -> list[tuple[str | BaseException, float]]:
    """Handle a batch of queue message bodies: per body (outcome, seconds), where the outcome is
    "skipped", "succeeded", "failed", or the infrastructure exception that should bring that
    message back. One pre-check query for the batch, the open items crawled through `map_fn`
    (e.g. a thread pool's map), then their results recorded together (record_item_results).
    """
    started = time.perf_counter()
    if not bodies:
        return []
    pairs = [(int(b["run_id"]), int(b["item_id"])) for b in bodies]
    try:
        open_pairs = open_item_ids(pairs)
    except Exception as exc:  # infrastructure: every message comes back
        seconds = time.perf_counter() - started
        return [(exc, seconds)] * len(bodies)
    todo: list[int] = []
    seen: set[tuple[int, int]] = set()
    for index, pair in enumerate(pairs):
        if pair in open_pairs and pair not in seen:
            seen.add(pair)
            todo.append(index)

    def crawl(body: dict[str, Any]) -> tuple[Posting | None, str | None, BaseException | None, float]:
        try:
            posting, error = _crawl(body)
            return posting, error, None, time.perf_counter() - started
        except Exception as exc:
            return None, None, exc, time.perf_counter() - started

    crawled = list(map_fn(crawl, [bodies[i] for i in todo]))
    out: list[tuple[str | BaseException, float]] = [("skipped", time.perf_counter() - started)] * len(bodies)
    to_record: list[ItemResult] = []
    recorded_at: list[int] = []
    for index, (posting, error, exc, _seconds) in zip(todo, crawled, strict=True):
        if exc is not None:
            out[index] = (exc, _seconds)
            continue
        run_id, item_id = pairs[index]
        to_record.append(ItemResult(run_id, item_id, bodies[index].get("url"), posting, error))
        recorded_at.append(index)
    if to_record:
        outcomes = record_item_results(to_record)
        finished = time.perf_counter() - started
        for index, outcome in zip(recorded_at, outcomes, strict=True):
            out[index] = (outcome, finished)
    return out
