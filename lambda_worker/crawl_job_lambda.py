"""Crawl worker: an SQS batch handler with partial batch responses.

A record is a listing message (`"type": "listing"`: stage 3 of a run, one company; see
core/pipeline/stage3.py) or an item message (`"type": "item"` or no type). Listings run in the
same thread pool as the crawls; a listing that cannot get a host slot, or meets a database
error, goes back to the queue like an item.

Each item record names one item of a run (`run_id`, `item_id`; its other fields are labels): what to
crawl, the URL and the hints, is read from the item row. The records of a batch are checked with
one query, crawled concurrently in threads with a deadline each, and recorded in groups as they
finish by `ingest_app.core.pipeline.process_items` (exactly once each). Only infrastructure errors
(database unreachable, a lock held elsewhere) come back as `batchItemFailures`, each first given
back to the queue with a short delay that grows with its receive count (ChangeMessageVisibility),
so it returns in seconds rather than after the 30-minute visibility timeout. While the database is
known to be down, a batch is given back without crawling. A failed crawl is a failed item, and a
malformed body is logged and dropped.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ingest_app.core.db import database_health, is_connection_error, one_line
from ingest_app.core.settings import get_settings

logger = logging.getLogger(__name__)

DROPPED = "dropped"

# Crawl threads live as long as the container (or local worker process); batches share them.
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()

# Optional observer of every record's outcome: fn(outcome_name, seconds). The local poller uses it
# for its metrics; Lambda leaves it unset.
_observer: Callable[[str, float], None] | None = None


# Time kept back from the Lambda deadline to record the last items and give messages back.
DEADLINE_MARGIN_SECONDS = 15.0


class MalformedMessage(ValueError):
    pass


class DatabaseUnavailable(RuntimeError):
    """The database is known to be down: the batch goes back to the queue uncrawled."""


@dataclass
class Outcome:
    result: str | None = None
    error: BaseException | None = None
    seconds: float = 0.0


def set_observer(observer: Callable[[str, float], None] | None) -> None:
    global _observer
    _observer = observer


def parse_body(text: str) -> dict[str, Any]:
    """The message body as a dict with the fields the pipeline needs; MalformedMessage otherwise."""
    try:
        body = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise MalformedMessage(f"body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise MalformedMessage("body is not a JSON object")
    kind = body.get("type", "item")
    if kind not in ("item", "listing"):
        raise MalformedMessage(f"unknown message type {str(kind)[:40]!r}")
    keys = ("run_id", "company_index") if kind == "listing" else ("run_id", "item_id")
    for key in keys:
        if not isinstance(body.get(key), int) or isinstance(body.get(key), bool):
            raise MalformedMessage(f"{key} must be an integer")
    return {"type": kind, **{key: body[key] for key in keys}}  # nothing else in it is trusted


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


RETRY_DELAY_FACTOR = 3


def retry_delay(receive_count: int) -> int:
    """Seconds before a message given back comes again: WORKER_RETRY_DELAY_SECONDS, tripled with
    each receive, at most WORKER_RETRY_DELAY_MAX_SECONDS (5, 15, 45, 135, 405 s by default: a
    short outage costs seconds, a long one does not push the messages through their 5 receives
    into the DLQ within a few minutes)."""
    settings = get_settings()
    exponent = max(0, min(receive_count - 1, 16))
    delay = settings.worker_retry_delay_seconds * RETRY_DELAY_FACTOR**exponent
    return int(min(settings.worker_retry_delay_max_seconds, delay))


def give_back(records: list[dict[str, Any]], *, at_least: dict[str, float] | None = None) -> int:
    """Make `records` visible again after retry_delay(their receive count), or after
    `at_least[messageId]` seconds when that is longer (a host paused for that long); how many were
    changed. Never raises: a message that could not be given back reappears after the visibility
    timeout."""
    from ingest_app.core.queue import change_visibility, queue_url_from_arn

    by_queue: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        try:
            count = int((record.get("attributes") or {}).get("ApproximateReceiveCount") or 1)
        except ValueError:
            count = 1
        delay = retry_delay(count)
        wait = (at_least or {}).get(record.get("messageId", ""), 0.0)
        delay = max(delay, min(int(math.ceil(wait)), get_settings().worker_retry_delay_max_seconds))
        entry = {"ReceiptHandle": record["receiptHandle"], "VisibilityTimeout": delay}
        by_queue.setdefault(record.get("eventSourceARN") or "", []).append(entry)
    changed = 0
    for arn, entries in by_queue.items():
        try:
            changed += change_visibility(queue_url_from_arn(arn), entries)
        except Exception as exc:
            logger.warning("could not give %d message(s) back early: %s", len(entries), one_line(exc))
    return changed


def process_records(records: list[dict[str, Any]], *, deadline: float | None = None) -> dict[str, Outcome]:
    """Process a batch's records: one open-items query, the crawls concurrently (at most
    `worker_batch_concurrency` of this batch at once, each within `worker_item_timeout_seconds`,
    all before `deadline`, a time.monotonic() value), the finished ones recorded as they finish;
    the outcome of each, keyed by messageId."""
    if not records:
        return {}
    started = time.perf_counter()
    outcomes: dict[str, Outcome] = {}
    valid: list[tuple[str, dict[str, Any]]] = []
    for record in records:
        try:
            valid.append((record["messageId"], parse_body(record.get("body", ""))))
        except MalformedMessage as exc:
            logger.error("dropping malformed message %s: %s", record.get("messageId"), exc)
            outcomes[record["messageId"]] = Outcome(result=DROPPED, seconds=time.perf_counter() - started)
    if valid and database_health.is_down and database_health.probe() is not True:
        down = DatabaseUnavailable(f"database unreachable: {database_health.last_error}")
        results: list[tuple[Any, float]] = [(down, time.perf_counter() - started)] * len(valid)
    elif valid:
        results = _dispatch([body for _, body in valid], deadline)
    else:
        results = []
    given_back: dict[str, list[str]] = {}
    for (message_id, body), (result, seconds) in zip(valid, results, strict=True):
        if isinstance(result, BaseException):  # infrastructure: let SQS deliver it again
            if is_connection_error(result):
                database_health.mark_down(result)
            name = body.get("item_id", f"listing {body.get('company_index')}")
            given_back.setdefault(one_line(result), []).append(f"{body['run_id']}/{name}")
            outcomes[message_id] = Outcome(error=result, seconds=seconds)
        else:
            outcomes[message_id] = Outcome(result=result, seconds=seconds)
    for reason, items in given_back.items():
        logger.warning("%d item(s) go back to the queue (%s): %s", len(items), ", ".join(items[:10]), reason)
    if _observer is not None:
        for outcome in outcomes.values():
            _observer(outcome.result or "error", outcome.seconds)
    return {r["messageId"]: outcomes[r["messageId"]] for r in records}


class ListingDeferred(RuntimeError):
    """Too little of the invocation's time is left to list a company: the message comes back."""


LISTING_MIN_SECONDS = 30.0


def _list_one(body: dict[str, Any], deadline: float | None) -> tuple[Any, float]:
    """One listing message, within the invocation's time (a listing cut by it would be recorded
    as a failed listing; one not started comes back instead)."""
    from ingest_app.core.crawl import deadline as crawl_deadline
    from ingest_app.core.pipeline import process_listing

    started = time.perf_counter()
    left = None if deadline is None else deadline - time.monotonic()
    if left is not None and left < LISTING_MIN_SECONDS:
        return ListingDeferred(f"{left:.0f} s left; listing later"), 0.0
    try:
        with crawl_deadline.within(get_settings().crawler_listing_timeout if left is None else left):
            return process_listing(body["run_id"], body["company_index"]), time.perf_counter() - started
    except Exception as exc:  # HostBusy, the database: the message comes back
        return exc, time.perf_counter() - started


def _dispatch(bodies: list[dict[str, Any]], deadline: float | None) -> list[tuple[Any, float]]:
    """Listing messages (stage 3, one company each) and item messages (stage 4) of one batch:
    the items through process_items, the listings concurrently in the same thread pool."""
    from ingest_app.core.pipeline import process_items

    items = [i for i, body in enumerate(bodies) if body["type"] == "item"]
    listings = [i for i, body in enumerate(bodies) if body["type"] == "listing"]
    results: list[tuple[Any, float]] = [("skipped", 0.0)] * len(bodies)
    futures = [(i, _executor().submit(_list_one, bodies[i], deadline)) for i in listings]
    if items:
        limit = max(1, min(len(items), get_settings().worker_batch_concurrency))
        done = process_items([bodies[i] for i in items], executor=_executor(), concurrency=limit, deadline=deadline)
        for index, result in zip(items, done, strict=True):
            results[index] = result
    for index, future in futures:
        results[index] = future.result()
    return results


def _deadline(context: Any) -> float | None:
    try:
        remaining = context.get_remaining_time_in_millis() / 1000.0
    except Exception:
        return None
    return time.monotonic() + max(1.0, remaining - DEADLINE_MARGIN_SECONDS)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records") or []
    if not records:
        return {"batchItemFailures": []}
    outcomes = process_records(records, deadline=_deadline(context))
    failed = [r for r in records if outcomes[r["messageId"]].error is not None]
    if failed:
        # Before reporting them: they return in seconds, not after the visibility timeout (a
        # message whose host is paused returns when the pause ends).
        waits = {r["messageId"]: float(getattr(outcomes[r["messageId"]].error, "retry_in", 0.0) or 0.0) for r in failed}
        give_back(failed, at_least=waits)

    def record_handler(record: SQSRecord) -> str | None:
        outcome = outcomes[record.message_id]
        if outcome.error is not None:
            raise outcome.error
        return outcome.result

    # One processor per invocation: the local poller calls this handler from several threads.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
