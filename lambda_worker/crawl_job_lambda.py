"""Crawl worker: an SQS batch handler with partial batch responses.

Each record carries one item of a run (`run_id`, `item_id`, `url`, `company`, `hints`). The records
of a batch are checked with one query, crawled concurrently in threads, and their results recorded
together by `ingest_app.core.pipeline.process_items` (exactly once each). Only infrastructure
errors (database unreachable, ...) come back as `batchItemFailures` so SQS redelivers them; a
failed crawl is a failed item, and a malformed body is logged and dropped.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ingest_app.core.settings import get_settings

logger = logging.getLogger(__name__)

DROPPED = "dropped"

# Crawl threads live as long as the container (or local worker process); batches share them.
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()

# Optional observer of every record's outcome: fn(outcome_name, seconds). The local poller uses it
# for its metrics; Lambda leaves it unset.
_observer: Callable[[str, float], None] | None = None


class MalformedMessage(ValueError):
    pass


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
    for key in ("run_id", "item_id"):
        if not isinstance(body.get(key), int) or isinstance(body.get(key), bool):
            raise MalformedMessage(f"{key} must be an integer")
    if not isinstance(body.get("url"), str) or not body["url"]:
        raise MalformedMessage("url must be a non-empty string")
    if not isinstance(body.get("hints", {}), dict):
        raise MalformedMessage("hints must be an object")
    return body


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


def process_records(records: list[dict[str, Any]]) -> dict[str, Outcome]:
    """Process a batch's records: one open-items query, the crawls concurrently (at most
    `worker_batch_concurrency` of this batch at once), the results recorded together; the outcome
    of each, keyed by messageId."""
    from ingest_app.core.pipeline import process_items

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
    limit = max(1, min(len(valid), get_settings().worker_batch_concurrency))
    if limit == 1:
        map_fn = map
    else:
        slots = threading.BoundedSemaphore(limit)

        def map_fn(fn, items):
            def _limited(item):
                with slots:
                    return fn(item)

            return _executor().map(_limited, items)

    results = process_items([body for _, body in valid], map_fn=map_fn) if valid else []
    for (message_id, body), (result, seconds) in zip(valid, results, strict=True):
        if isinstance(result, BaseException):  # infrastructure: let SQS deliver it again
            logger.warning("run %s item %s: %s; leaving it on the queue", body["run_id"], body["item_id"], result)
            outcomes[message_id] = Outcome(error=result, seconds=seconds)
        else:
            outcomes[message_id] = Outcome(result=result, seconds=seconds)
    if _observer is not None:
        for outcome in outcomes.values():
            _observer(outcome.result or "error", outcome.seconds)
    return {r["messageId"]: outcomes[r["messageId"]] for r in records}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records") or []
    if not records:
        return {"batchItemFailures": []}
    outcomes = process_records(records)

    def record_handler(record: SQSRecord) -> str | None:
        outcome = outcomes[record.message_id]
        if outcome.error is not None:
            raise outcome.error
        return outcome.result

    # One processor per invocation: the local poller calls this handler from several threads.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
