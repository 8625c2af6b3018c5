"""Sending a run's messages (pipeline/messages.py) through the queue port: the item messages that
start stage 4 (after stage 3, and again from the stale detector) and the listing messages that
start stage 3. A queue that keeps refusing them fails the run with the reason.

The port is `send(messages)`: the SQS queue (`core.queue.send_messages`) unless another is
installed with `set_default_send` or passed in (the CLI's and the tests' in-memory queues).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from ingest_app.core.db import get_engine
from ingest_app.core.models import IngestionRun, IngestionRunItem
from ingest_app.core.pipeline.messages import ItemMessage, ListingMessage
from ingest_app.core.pipeline.runs import fail_run

log = logging.getLogger(__name__)

RUNS = IngestionRun.__table__
ITEMS = IngestionRunItem.__table__
SEND_CHUNK = 500

SendFn = Callable[[list[Any]], Any]

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


def pending_item_messages(conn: sa.Connection, run_id: int) -> list[ItemMessage]:
    """One item message per pending item of the run, taken in turn from each host (item id order
    within a host)."""
    rows = conn.execute(
        sa.select(ITEMS.c.id, ITEMS.c.url, ITEMS.c.company, ITEMS.c.hints)
        .where(ITEMS.c.run_id == run_id, ITEMS.c.state == "pending")
        .order_by(ITEMS.c.id)
    ).all()
    return [
        ItemMessage(run_id=run_id, item_id=r.id, url=r.url, company=r.company, hints=r.hints or {})
        for r in _across_hosts(rows)
    ]


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


def enqueue_items(run_id: int, messages: list[ItemMessage], send: SendFn | None = None) -> int:
    """Send the item messages; a send that keeps failing fails the run with the reason. The number
    sent."""
    send = send or default_send()
    sent = 0
    try:
        for chunk in _chunks(messages, SEND_CHUNK):
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
                f"Could not enqueue {len(messages) - sent} of {len(messages)} jobs: {exc}",
                statuses=("ingesting",),
            )
    return sent


def enqueue_listings(run_id: int, messages: list[ListingMessage], send: SendFn | None = None) -> int:
    """Send the listing messages of an `archiving` run; a queue that refuses them fails the run
    with the reason. The number sent (0 then)."""
    send = send or default_send()
    try:
        for chunk in _chunks(messages, SEND_CHUNK):
            send(chunk)
    except Exception as exc:
        log.exception("enqueueing stage 3 of run %s failed", run_id)
        with get_engine().begin() as conn:
            message = f"Could not enqueue stage 3 ({len(messages)} listings): {exc}"
            fail_run(conn, run_id, message, statuses=("archiving",))
        return 0
    return len(messages)


def _chunks(items: Sequence[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
