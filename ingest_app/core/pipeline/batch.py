"""Recording a batch of queue messages: one pre-check query (which also reads each item's URL and
hints: a message names an item, it never says what to crawl), concurrent crawls with a deadline
each, and the finished items recorded as they finish, one transaction per run and group, with the
same guarantees as `record_item_result` per item."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ingest_app.core.crawl.types import Posting
from ingest_app.core.db import get_engine
from ingest_app.core.jobs import job_row, upsert_jobs_postgresql
from ingest_app.core.models import utcnow
from ingest_app.core.pipeline import incremental
from ingest_app.core.pipeline.recording import (
    COMPANIES,
    COUNT_ITEMS,
    ITEMS,
    RUN_ID_PARAM,
    RUNS,
    complete_if_counted,
    crawl_item,
    item_state,
    outcome_of,
    record_one,
    relax_commit,
)
from ingest_app.core.settings import get_settings

log = logging.getLogger(__name__)


_OPEN_ITEMS = (
    sa.select(ITEMS.c.id, ITEMS.c.run_id, ITEMS.c.url, ITEMS.c.hints, ITEMS.c.posting, RUNS.c.user_id)
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
        ITEMS.c.run_id == RUN_ID_PARAM,
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
    .where(RUNS.c.run_id == RUN_ID_PARAM)
)


@dataclass
class ItemResult:
    """One crawled item to record: `posting` for a success, `error` for a failure (or, for a page
    that is not a job posting, the reason it is skipped)."""

    run_id: int
    item_id: int
    url: Any = None
    posting: Posting | None = None
    error: str | None = None
    unchanged: bool = False  # the page answered 304: succeeded, nothing added
    validators: tuple[str | None, str | None] | None = None  # of the fetched page, stored with the job


def open_items(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], dict[str, Any]]:
    """The items whose run is ingesting and which are still pending, one query: (run_id, item_id)
    -> what to crawl for it, read from the item row (`run_id`, `item_id`, `url`, `hints`, the
    listing's `posting`) and, for a page whose job is active, its stored `validators`."""
    pairs = list(pairs)
    if not pairs:
        return {}
    with get_engine().connect() as conn:
        rows = conn.execute(_OPEN_ITEMS, {"p_item_ids": sorted({item for _, item in pairs})}).all()
        by_user: dict[int, list[str]] = {}
        for row in rows:
            if row.posting is None:
                by_user.setdefault(row.user_id, []).append(row.url)
        stored = incremental.page_validators(conn, by_user) if by_user else {}
    found = {
        (row.run_id, row.id): {
            "run_id": row.run_id,
            "item_id": row.id,
            "url": row.url,
            "hints": row.hints or {},
            "posting": row.posting,
            "validators": stored.get((row.user_id, row.url)),
        }
        for row in rows
    }
    return {pair: found[pair] for pair in pairs if pair in found}


def _record_run_batch(run_id: int, results: list[ItemResult]) -> dict[int, str]:
    """Record several items of one run in ONE transaction (PostgreSQL): item_id -> outcome.

    Same guarantees as record_item_result for each item: the guarded transitions (row locks taken
    in item id order), the job upserts of the items that moved (source URL order), ONE counter
    increment by the number of items actually moved, the heartbeat, then the completion UPDATE.
    A run that is not ingesting changes nothing ("skipped" for all).
    """
    by_id = {r.item_id: r for r in sorted(results, key=lambda r: r.item_id)}
    states = {item_id: item_state(r.posting, r.error) for item_id, r in by_id.items()}
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
                    "p_states": [states[i] for i in pending],
                    "p_errors": [None if states[i] == "succeeded" else by_id[i].error[:4000] for i in pending],
                    "p_now": now,
                },
            ).all()
            if not moved:
                tx.rollback()
                return outcomes
            succeeded = [row for row in moved if states[row.id] == "succeeded"]
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
                    if by_id[row.id].posting is not None
                ]
                if rows:
                    n_added = sum(upsert_jobs_postgresql(conn, rows).values())
                touched = [row.url for row in succeeded if by_id[row.id].unchanged]
                incremental.touch_jobs(conn, user_id, touched, run_id, now)
                pages = {row.url: by_id[row.id].validators for row in succeeded if by_id[row.id].validators}
                incremental.store_page_validators(conn, user_id, pages, now)
            counters = conn.execute(
                COUNT_ITEMS,
                {
                    "p_run_id": run_id,
                    "p_processed": len(moved),
                    "p_added": n_added,
                    "p_failed": sum(1 for row in moved if states[row.id] == "failed"),
                    "p_skipped": sum(1 for row in moved if states[row.id] == "skipped"),
                    "p_now": now,
                },
            ).first()
            if counters is None:
                # The run left `ingesting` (reset, failed) after the item updates began: change nothing.
                tx.rollback()
                return outcomes
            complete_if_counted(conn, run_id, counters)
    for row in moved:
        outcomes[row.id] = outcome_of(states[row.id])
    return outcomes


def record_item_results(results: list[ItemResult]) -> list[str | BaseException]:
    """Record crawled items: per result "succeeded", "failed", "not_a_job" (the item ended
    `skipped`: not a job posting), "skipped" (a duplicate, or a run no longer ingesting) or the
    infrastructure exception that kept it from being recorded (nothing of it changed then; the
    message should be delivered again).

    On PostgreSQL the items of one run go in one transaction, and the runs of one call are recorded
    at the same time (their rows are disjoint: one active run per user), so a lock held on one
    run's rows delays only that run until `lock_timeout`. A posting the database refuses sends
    that run's items through the one-by-one path, where it becomes a failed item.
    """
    for r in results:
        if (r.posting is None and not r.unchanged) == (r.error is None):
            raise ValueError("pass exactly one of posting (or unchanged) or error")
    out: list[str | BaseException] = ["skipped"] * len(results)
    groups: dict[int, list[int]] = {}
    for index, r in enumerate(results):
        groups.setdefault(r.run_id, []).append(index)
    postgres = get_engine().dialect.name == "postgresql"

    def record_run(run_id: int) -> None:
        first: dict[int, int] = {}
        for index in groups[run_id]:  # the same item twice in one batch: the second is a duplicate
            first.setdefault(results[index].item_id, index)
        unique = [results[i] for i in first.values()]
        if postgres:
            try:
                done = _record_run_batch(run_id, unique)
                for item_id, index in first.items():
                    out[index] = done[item_id]
                return
            except (sa.exc.DataError, sa.exc.IntegrityError):
                log.warning("recording run %s's batch failed on its data; recording its items one by one", run_id)
            except Exception as exc:  # infrastructure (down, a lock held elsewhere): none of these changed
                for index in first.values():
                    out[index] = exc
                return
        for item_id, index in first.items():
            r = results[index]
            try:
                out[index] = record_one(run_id, item_id, r.url, r.posting, r.error, r.unchanged, r.validators)
            except Exception as exc:  # infrastructure: this item did not change
                out[index] = exc

    run_ids = sorted(groups)
    if postgres and len(run_ids) > 1:
        others = [threading.Thread(target=record_run, args=(r,), name=f"record-{r}") for r in run_ids[1:]]
        for thread in others:
            thread.start()
        record_run(run_ids[0])
        for thread in others:
            thread.join()
    else:
        for run_id in run_ids:
            record_run(run_id)
    return out


class ItemDeferred(RuntimeError):
    """An item of the batch that was not crawled before the invocation's time ran out: nothing of it
    changed; its message should come back."""


CrawlResult = tuple[Posting | None, str | None, BaseException | None]


def _timeout_error(seconds: float) -> str:
    return f"timeout: crawling the page took longer than the worker's {seconds:g} s limit per item"


class _Slots:
    """At most `limit` crawls of one batch at once. A crawl given up on frees its slot at once
    (its thread may still be waiting on the page); its own release later is then a no-op."""

    def __init__(self, limit: int) -> None:
        self._semaphore = threading.Semaphore(limit)
        self._lock = threading.Lock()
        self._held: set[int] = set()
        self.abandoned: set[int] = set()
        self.started: dict[int, float] = {}

    def enter(self, key: int) -> bool:
        self._semaphore.acquire()
        with self._lock:
            if key in self.abandoned:
                self._semaphore.release()
                return False
            self._held.add(key)
            self.started[key] = time.monotonic()
            return True

    def leave(self, key: int) -> None:
        with self._lock:
            if key in self._held:
                self._held.discard(key)
                self._semaphore.release()

    def abandon(self, key: int) -> None:
        with self._lock:
            self.abandoned.add(key)
        self.leave(key)


def crawl_as_completed(
    executor: Executor,
    bodies: list[dict[str, Any]],
    crawl: Callable[[dict[str, Any]], CrawlResult],
    *,
    concurrency: int,
    item_timeout: float,
    deadline: float | None = None,
    linger: float = 0.05,
) -> Iterator[list[tuple[int, CrawlResult]]]:
    """Crawl `bodies` in `executor` (at most `concurrency` at once) and yield groups of
    (position, result) as they finish, so each group can be recorded without waiting for the
    slowest page. A crawl running longer than `item_timeout` seconds is given up: it yields a
    failed result with a timeout error. At `deadline` (time.monotonic()) every crawl still running
    is given up the same way, and those not started yield an ItemDeferred exception."""
    slots = _Slots(max(1, concurrency))

    def run(position: int, body: dict[str, Any]) -> CrawlResult | None:
        if not slots.enter(position):
            return None
        try:
            return crawl(body)
        finally:
            slots.leave(position)

    futures: dict[Future, int] = {executor.submit(run, i, body): i for i, body in enumerate(bodies)}
    pending = set(futures)
    while pending:
        now = time.monotonic()
        wakes = [slots.started[futures[f]] + item_timeout for f in pending if futures[f] in slots.started]
        if deadline is not None:
            wakes.append(deadline)
        if len(wakes) < len(pending):  # some not started yet: look again soon for their start time
            wakes.append(now + 0.5)
        done, _ = wait(pending, timeout=max(0.0, min(wakes) - now), return_when=FIRST_COMPLETED)
        if done and linger > 0 and len(done) < len(pending):
            # Items that finish moments apart are recorded together, in one transaction.
            more, _ = wait(pending - done, timeout=linger, return_when=ALL_COMPLETED)
            done |= more
        group: list[tuple[int, CrawlResult]] = []
        for future in done:
            pending.discard(future)
            result = future.result()
            if result is not None:
                group.append((futures[future], result))
        now = time.monotonic()
        for future in list(pending):
            position = futures[future]
            began = slots.started.get(position)
            out_of_time = deadline is not None and now >= deadline
            if began is not None and (now >= began + item_timeout or out_of_time):
                slots.abandon(position)
                pending.discard(future)
                log.warning("giving up on %s after %.1f s", bodies[position].get("url"), now - began)
                group.append((position, (None, _timeout_error(item_timeout), None)))
            elif began is None and out_of_time:
                slots.abandon(position)
                future.cancel()
                pending.discard(future)
                group.append((position, (None, None, ItemDeferred("not crawled before the time limit"))))
        if group:
            yield group


def process_items(
    bodies: list[dict[str, Any]],
    *,
    map_fn: Callable[[Callable[[dict[str, Any]], Any], list[dict[str, Any]]], Iterator[Any]] = map,
    crawl_fn: Callable[[dict[str, Any]], tuple[Any, str | None]] = crawl_item,
    executor: Executor | None = None,
    concurrency: int | None = None,
    item_timeout: float | None = None,
    deadline: float | None = None,
) -> list[tuple[str | BaseException, float]]:
    """Handle a batch of queue message bodies: per body (outcome, seconds), where the outcome is
    "skipped", "succeeded", "failed", "not_a_job", or the infrastructure exception that should bring that
    message back. One pre-check query for the batch reads the open items' URLs and hints (a body
    only names its item: a forged URL in it is never fetched).

    With `executor`, the open items are crawled there (`concurrency` at once, each within
    `item_timeout`, settings.worker_item_timeout_seconds by default) and recorded in groups as they
    finish (crawl_as_completed). Without, they are crawled through `map_fn` (e.g. a thread pool's
    map) and recorded together. `crawl_fn(item)` crawls one open item, as `crawl_item` does: (what
    was learned, None) or (None, error), raising only for infrastructure errors.
    """
    started = time.perf_counter()
    if not bodies:
        return []
    pairs = [(int(b["run_id"]), int(b["item_id"])) for b in bodies]
    try:
        items = open_items(pairs)
    except Exception as exc:  # infrastructure: every message comes back
        seconds = time.perf_counter() - started
        return [(exc, seconds)] * len(bodies)
    todo: list[int] = []
    seen: set[tuple[int, int]] = set()
    for index, pair in enumerate(pairs):
        if pair in items and pair not in seen:
            seen.add(pair)
            todo.append(index)
    work = [items[pairs[i]] for i in todo]

    def crawl(body: dict[str, Any]) -> CrawlResult:
        try:
            crawled, error = crawl_fn(body)
            return crawled, error, None
        except Exception as exc:
            return None, None, exc

    out: list[tuple[str | BaseException, float]] = [("skipped", time.perf_counter() - started)] * len(bodies)

    def record(group: Iterable[tuple[int, CrawlResult]]) -> None:
        to_record: list[ItemResult] = []
        recorded_at: list[int] = []
        for position, (crawled, error, exc) in group:
            index = todo[position]
            if exc is not None:
                out[index] = (exc, time.perf_counter() - started)
                continue
            run_id, item_id = pairs[index]
            url = work[position]["url"]
            if isinstance(crawled, Posting):  # a crawl function that only returns postings
                crawled = incremental.Crawled(posting=crawled)
            if crawled is None:
                to_record.append(ItemResult(run_id, item_id, url, None, error))
            else:
                to_record.append(
                    ItemResult(run_id, item_id, url, crawled.posting, None, crawled.unchanged, crawled.validators)
                )
            recorded_at.append(index)
        if to_record:
            outcomes = record_item_results(to_record)
            finished = time.perf_counter() - started
            for index, outcome in zip(recorded_at, outcomes, strict=True):
                out[index] = (outcome, finished)

    if executor is None:
        record(enumerate(map_fn(crawl, work)))
        return out
    settings = get_settings()
    for group in crawl_as_completed(
        executor,
        work,
        crawl,
        concurrency=concurrency or settings.worker_batch_concurrency,
        item_timeout=item_timeout or settings.worker_item_timeout_seconds,
        deadline=deadline,
    ):
        record(group)
    return out
