"""Processing a batch of queue messages (pipeline/messages.py), what the crawl worker does with
each SQS batch on Lambda and under the local poller alike (`process_batch`).

Listing messages (stage 3, one company each) run `stage3.process_listing` in the process's
thread pool. Item messages (stage 4) go through `process_items`: one pre-check query (which also
reads each item's URL and hints: a message names an item, it never says what to crawl), the
crawls concurrently with a deadline each (pipeline/concurrent_crawls.py), and the finished items
recorded as they finish, one transaction per run and group (pipeline/record.py).

Every message gets an outcome: a result ("succeeded", "failed", "not_a_job", "listed",
"skipped", "dropped" for a body that did not parse) or the infrastructure error (database
unreachable, a lock held elsewhere, a host without a free slot) that should bring it back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ingest_app.core.crawl.politeness import HostBusy
from ingest_app.core.crawl.types import CrawlError, Posting
from ingest_app.core.db import database_health, get_engine, is_connection_error, one_line
from ingest_app.core.models import IngestionRun, IngestionRunItem
from ingest_app.core.pipeline import job_pages
from ingest_app.core.pipeline.concurrent_crawls import CrawlResult, crawl_as_completed
from ingest_app.core.pipeline.messages import ItemMessage, ListingMessage
from ingest_app.core.pipeline.record import ItemResult, record_item_results
from ingest_app.core.settings import get_settings

log = logging.getLogger(__name__)

RUNS = IngestionRun.__table__
ITEMS = IngestionRunItem.__table__
DROPPED = "dropped"
LISTING_MIN_SECONDS = 30.0

# Crawl threads live as long as the process (a Lambda container, the local worker); batches share them.
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()

# Optional observer of every message's outcome: fn(outcome_name, seconds). The local poller uses it
# for its metrics; Lambda leaves it unset.
_observer: Callable[[str, float], None] | None = None


class DatabaseUnavailable(RuntimeError):
    """The database is known to be down: the batch goes back to the queue uncrawled."""


class ListingDeferred(RuntimeError):
    """Too little of the invocation's time is left to list a company: the message comes back."""


@dataclass(frozen=True)
class Outcome:
    """What became of one message: `result`, or the infrastructure `error` that brings it back."""

    result: str | None = None
    error: BaseException | None = None
    seconds: float = 0.0

    @property
    def retry_in(self) -> float:
        """Seconds the message should stay away at least (a host paused for that long), else 0."""
        return float(getattr(self.error, "retry_in", 0.0) or 0.0)


def set_observer(observer: Callable[[str, float], None] | None) -> None:
    global _observer
    _observer = observer


def _executor() -> ThreadPoolExecutor:
    """One pool per process, sized for every batch the process runs at once (threads start lazily)."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                settings = get_settings()
                size = settings.worker_batch_concurrency * settings.worker_concurrency
                _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="crawl")
    return _pool


def process_batch(
    messages: Sequence[ItemMessage | ListingMessage | None], *, deadline: float | None = None
) -> list[Outcome]:
    """Process one batch: the outcome of each message, in order. None stands for a record whose
    body did not parse: it is dropped (retrying cannot help).

    The item crawls run at most `worker_batch_concurrency` of this batch at once, each within
    `worker_item_timeout_seconds`, all before `deadline` (a time.monotonic() value). While the
    database is known to be down, and a probe does not find it back, nothing is crawled and every
    message comes back."""
    started = time.perf_counter()
    valid = [(index, message) for index, message in enumerate(messages) if message is not None]
    dropped = Outcome(result=DROPPED, seconds=time.perf_counter() - started)
    outcomes = [dropped] * len(messages)
    _fill(outcomes, valid, _results([message for _, message in valid], deadline, started))
    if _observer is not None:
        for outcome in outcomes:
            _observer(outcome.result or "error", outcome.seconds)
    return outcomes


def _results(
    messages: list[ItemMessage | ListingMessage], deadline: float | None, started: float
) -> list[tuple[Any, float]]:
    """(result or infrastructure error, seconds) per message; all of them DatabaseUnavailable while
    the database is known to be down and a probe does not find it back."""
    if not messages:
        return []
    if database_health.is_down and database_health.probe() is not True:
        down = DatabaseUnavailable(f"database unreachable: {database_health.last_error}")
        return [(down, time.perf_counter() - started)] * len(messages)
    return _dispatch(messages, deadline)


def _fill(
    outcomes: list[Outcome],
    valid: list[tuple[int, ItemMessage | ListingMessage]],
    results: list[tuple[Any, float]],
) -> None:
    """Each processed message's outcome in its place; the ones going back logged by reason (and a
    connection error marks the database down for the process)."""
    given_back: dict[str, list[str]] = {}
    for (index, message), (result, seconds) in zip(valid, results, strict=True):
        if isinstance(result, BaseException):  # infrastructure: let SQS deliver it again
            if is_connection_error(result):
                database_health.mark_down(result)
            given_back.setdefault(one_line(result), []).append(_name(message))
            outcomes[index] = Outcome(error=result, seconds=seconds)
        else:
            outcomes[index] = Outcome(result=result, seconds=seconds)
    for reason, names in given_back.items():
        log.warning("%d item(s) go back to the queue (%s): %s", len(names), ", ".join(names[:10]), reason)


def _name(message: ItemMessage | ListingMessage) -> str:
    if isinstance(message, ListingMessage):
        return f"{message.run_id}/listing {message.company_index}"
    return f"{message.run_id}/{message.item_id}"


def _list_one(message: ListingMessage, deadline: float | None) -> tuple[Any, float]:
    """One listing message, within the invocation's time (a listing cut by it would be recorded
    as a failed listing; one not started comes back instead)."""
    from ingest_app.core.crawl import deadline as crawl_deadline
    from ingest_app.core.pipeline.stage3 import process_listing

    started = time.perf_counter()
    left = None if deadline is None else deadline - time.monotonic()
    if left is not None and left < LISTING_MIN_SECONDS:
        return ListingDeferred(f"{left:.0f} s left; listing later"), 0.0
    try:
        with crawl_deadline.within(get_settings().crawler_listing_timeout if left is None else left):
            return process_listing(message.run_id, message.company_index), time.perf_counter() - started
    except Exception as exc:  # HostBusy, the database: the message comes back
        return exc, time.perf_counter() - started


def _dispatch(messages: list[ItemMessage | ListingMessage], deadline: float | None) -> list[tuple[Any, float]]:
    """Listing messages (stage 3, one company each) and item messages (stage 4) of one batch:
    the items through process_items, the listings concurrently in the same thread pool."""
    items = [(i, message) for i, message in enumerate(messages) if isinstance(message, ItemMessage)]
    listings = [(i, message) for i, message in enumerate(messages) if isinstance(message, ListingMessage)]
    results: list[tuple[Any, float]] = [("skipped", 0.0)] * len(messages)
    futures = [(i, _executor().submit(_list_one, message, deadline)) for i, message in listings]
    if items:
        limit = max(1, min(len(items), get_settings().worker_batch_concurrency))
        done = process_items([m for _, m in items], executor=_executor(), concurrency=limit, deadline=deadline)
        for (index, _), result in zip(items, done, strict=True):
            results[index] = result
    for index, future in futures:
        results[index] = future.result()
    return results


_OPEN_ITEMS = (
    sa.select(ITEMS.c.id, ITEMS.c.run_id, ITEMS.c.url, ITEMS.c.hints, ITEMS.c.posting, RUNS.c.user_id)
    .select_from(ITEMS.join(RUNS, RUNS.c.run_id == ITEMS.c.run_id))
    .where(
        ITEMS.c.id.in_(sa.bindparam("p_item_ids", expanding=True)),
        ITEMS.c.state == "pending",
        RUNS.c.status == "ingesting",
    )
)


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
        stored = job_pages.page_validators(conn, by_user) if by_user else {}
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


def crawl_item(item: dict[str, Any]) -> tuple[job_pages.Crawled | None, str | None]:
    """(what was learned, None) or (None, error) for one open item; infrastructure errors raise."""
    from ingest_app.core.crawl import extract_job

    try:
        return job_pages.crawl(item, extract_job), None
    except CrawlError as exc:
        return None, f"{exc.kind}: {exc.reason}"
    except (sa.exc.SQLAlchemyError, MemoryError, HostBusy):  # HostBusy: not now, the message comes back
        raise
    except Exception as exc:  # a crawler bug must not redeliver forever; record it on the item
        log.exception("extracting %s failed unexpectedly", item.get("url"))
        return None, f"internal_error: {type(exc).__name__}: {exc}"


def process_items(
    messages: Sequence[ItemMessage],
    *,
    map_fn: Callable[[Callable[[dict[str, Any]], Any], list[dict[str, Any]]], Iterator[Any]] = map,
    crawl_fn: Callable[[dict[str, Any]], tuple[Any, str | None]] = crawl_item,
    executor: Executor | None = None,
    concurrency: int | None = None,
    item_timeout: float | None = None,
    deadline: float | None = None,
) -> list[tuple[str | BaseException, float]]:
    """Handle a batch of item messages: per message (outcome, seconds), where the outcome is
    "skipped", "succeeded", "failed", "not_a_job", or the infrastructure exception that should bring
    that message back. One pre-check query for the batch reads the open items' URLs and hints (a
    message only names its item: a forged URL in it is never fetched).

    With `executor`, the open items are crawled there (`concurrency` at once, each within
    `item_timeout`, settings.worker_item_timeout_seconds by default) and recorded in groups as they
    finish (crawl_as_completed). Without, they are crawled through `map_fn` (e.g. a thread pool's
    map) and recorded together. `crawl_fn(item)` crawls one open item, as `crawl_item` does: (what
    was learned, None) or (None, error), raising only for infrastructure errors.
    """
    started = time.perf_counter()
    if not messages:
        return []
    pairs = [(m.run_id, m.item_id) for m in messages]
    try:
        items = open_items(pairs)
    except Exception as exc:  # infrastructure: every message comes back
        seconds = time.perf_counter() - started
        return [(exc, seconds)] * len(messages)
    todo = _first_open(pairs, items)
    work = [items[pairs[i]] for i in todo]

    def crawl(item: dict[str, Any]) -> CrawlResult:
        try:
            crawled, error = crawl_fn(item)
            return crawled, error, None
        except Exception as exc:
            return None, None, exc

    out: list[tuple[str | BaseException, float]] = [("skipped", time.perf_counter() - started)] * len(messages)

    def record(group: Iterable[tuple[int, CrawlResult]]) -> None:
        to_record: list[ItemResult] = []
        recorded_at: list[int] = []
        for position, (crawled, error, exc) in group:
            index = todo[position]
            if exc is not None:
                out[index] = (exc, time.perf_counter() - started)
                continue
            to_record.append(_item_result(*pairs[index], work[position]["url"], crawled, error))
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


def _first_open(pairs: list[tuple[int, int]], items: dict[tuple[int, int], Any]) -> list[int]:
    """The positions of the messages whose item is open, each item once (the same item twice in
    one batch: the second is a duplicate, skipped)."""
    todo: list[int] = []
    seen: set[tuple[int, int]] = set()
    for index, pair in enumerate(pairs):
        if pair in items and pair not in seen:
            seen.add(pair)
            todo.append(index)
    return todo


def _item_result(run_id: int, item_id: int, url: Any, crawled: Any, error: str | None) -> ItemResult:
    if isinstance(crawled, Posting):  # a crawl function that only returns postings
        crawled = job_pages.Crawled(posting=crawled)
    if crawled is None:
        return ItemResult(run_id, item_id, url, None, error)
    return ItemResult(run_id, item_id, url, crawled.posting, None, crawled.unchanged, crawled.validators)


def process_item(message: ItemMessage) -> str:
    """`process_items` for one message: its outcome ("skipped", "succeeded", "failed",
    "not_a_job"); the infrastructure error that should bring it back is raised."""
    [(outcome, _)] = process_items([message])
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
