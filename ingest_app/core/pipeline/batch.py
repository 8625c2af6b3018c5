"""Recording a batch of queue messages: one pre-check query, concurrent crawls, then one
recording transaction per run with the same guarantees as `record_item_result` per item."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ingest_app.core.crawl.types import Posting
from ingest_app.core.db import get_engine
from ingest_app.core.jobs import job_row, upsert_jobs_postgresql
from ingest_app.core.models import utcnow
from ingest_app.core.pipeline.recording import (
    _COUNT,
    _RUN_ID,
    COMPANIES,
    ITEMS,
    RUNS,
    _crawl,
    _record_one,
    complete_if_counted,
    relax_commit,
)

log = logging.getLogger(__name__)


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
            relax_commit(conn)
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
            complete_if_counted(conn, run_id, counters)
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
