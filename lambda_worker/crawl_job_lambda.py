"""Crawl worker: an SQS batch handler with partial batch responses.

Each record is parsed once, here, as an SQS record whose body is a queue message
(`ingest_app.core.pipeline.messages`: an item or a listing); a record that does not parse is
logged and dropped (retrying cannot help). The batch is processed by
`ingest_app.core.pipeline.process_batch`. Only infrastructure errors (database unreachable, a lock
held elsewhere, a host without a free slot) come back as `batchItemFailures`, each first given
back to the queue with a short delay that grows with its receive count (`core.queue.give_back`),
so it returns in seconds rather than after the 30-minute visibility timeout.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aws_lambda_powertools.utilities.parser import ValidationError, parse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from ingest_app.core.pipeline.messages import QueueMessage
from ingest_app.core.pipeline.process import process_batch
from ingest_app.core.queue import give_back

__all__ = ["CrawlRecord", "handler"]

logger = logging.getLogger(__name__)

# Time kept back from the Lambda deadline to record the last items and give messages back.
DEADLINE_MARGIN_SECONDS = 15.0


class CrawlRecord(SqsRecordModel):
    body: Json[QueueMessage]  # type: ignore[assignment]


def parse_record(record: dict[str, Any]) -> QueueMessage | None:
    """The record's message; None (logged) for a record that does not parse."""
    try:
        return parse(event=record, model=CrawlRecord).body
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
        logger.error("dropping malformed message %s: %s", record.get("messageId"), problems)
        return None


def _deadline(context: Any) -> float | None:
    try:
        remaining = context.get_remaining_time_in_millis() / 1000.0
    except Exception:
        return None
    return time.monotonic() + max(1.0, remaining - DEADLINE_MARGIN_SECONDS)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records") or []
    outcomes = process_batch([parse_record(r) for r in records], deadline=_deadline(context))
    failed = [(r, o) for r, o in zip(records, outcomes, strict=True) if o.error is not None]
    if failed:  # before reporting them: back in seconds, not after the visibility timeout
        give_back([r for r, _ in failed], at_least={r["messageId"]: o.retry_in for r, o in failed})
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r, _ in failed]}
