"""The SQS port: send crawl messages, create the queues, read their depths.

The endpoint comes from `SQS_ENDPOINT_URL` (the local emulator by default); an empty value means
real AWS. One boto3 client per process and configuration, shared by threads (boto3 clients are
thread-safe).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from ingest_app.core.db import one_line
from ingest_app.core.settings import Settings, get_settings

log = logging.getLogger(__name__)

BATCH_SIZE = 10  # SQS SendMessageBatch / DeleteMessageBatch limit
SEND_THREADS = 8  # SendMessageBatch calls in flight at once (the client pools 64 connections)

# Production attributes (cloudformation/sqs-queues.yml carries the same numbers).
VISIBILITY_TIMEOUT = 1800  # 6x the 300 s function timeout, as AWS advises
RETENTION_SECONDS = 24 * 3600
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
MAX_RECEIVE_COUNT = 5
LONG_POLL_SECONDS = 20

_clients: dict[tuple[Any, ...], Any] = {}
_queue_urls: dict[tuple[Any, ...], str] = {}
_lock = threading.Lock()


class QueueError(RuntimeError):
    """The queue could not take or give messages; the message says why."""


def dlq_name(queue_name: str) -> str:
    return f"{queue_name}-dlq"


def get_client(settings: Settings | None = None, *, attempts: int = 4) -> Any:
    """The process-wide SQS client for the configured endpoint, region and keys (`attempts`: the
    botocore retry budget of each call; a small one for calls that must fail fast)."""
    settings = settings or get_settings()
    endpoint = settings.sqs_endpoint_url or None
    key = (endpoint, settings.aws_region, settings.aws_access_key_id, settings.aws_secret_access_key, attempts)
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                credentials: dict[str, str] = {}
                if endpoint:  # the emulator accepts any key; real AWS uses the default chain
                    credentials = {
                        "aws_access_key_id": settings.aws_access_key_id,
                        "aws_secret_access_key": settings.aws_secret_access_key,
                    }
                client = boto3.session.Session().client(
                    "sqs",
                    endpoint_url=endpoint,
                    region_name=settings.aws_region,
                    config=Config(
                        max_pool_connections=64,
                        connect_timeout=5,
                        read_timeout=LONG_POLL_SECONDS + 10,
                        retries={"max_attempts": attempts, "mode": "standard"},
                        # The requests are built here from known-good values, and SQS validates
                        # them anyway: checking each against the service model client-side cost
                        # about 0.7 ms of CPU per receive or delete (a third of the call).
                        parameter_validation=False,
                    ),
                    **credentials,
                )
                _clients[key] = client
    return client


def reset_clients() -> None:
    """Forget cached clients and queue URLs (after settings changed, in tests)."""
    with _lock:
        _clients.clear()
        _queue_urls.clear()


def queue_url_for(name: str, settings: Settings | None = None) -> str:
    """The URL of queue `name` (asked from SQS once per process)."""
    settings = settings or get_settings()
    key = (settings.sqs_endpoint_url, settings.aws_region, name)
    url = _queue_urls.get(key)
    if url is None:
        try:
            url = get_client(settings).get_queue_url(QueueName=name)["QueueUrl"]
        except (ClientError, BotoCoreError) as exc:
            raise QueueError(f"queue {name!r} is not reachable: {exc}") from exc
        _queue_urls[key] = url
    return url


def crawl_queue_url(settings: Settings | None = None) -> str:
    """`CRAWL_QUEUE_URL` if set, else the URL of `CRAWL_QUEUE_NAME` on the configured endpoint."""
    settings = settings or get_settings()
    if settings.crawl_queue_url:
        return settings.crawl_queue_url
    if settings.sqs_endpoint_url:
        return settings.queue_url
    return queue_url_for(settings.crawl_queue_name, settings)


def queue_url_from_arn(arn: str, settings: Settings | None = None) -> str:
    """The URL of the queue `arn:aws:sqs:REGION:ACCOUNT:NAME` (a Lambda record's eventSourceARN):
    the configured crawl queue's URL when the name matches, else built for the configured endpoint
    (or AWS's)."""
    settings = settings or get_settings()
    parts = arn.split(":")
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "sqs"] or not parts[5]:
        raise QueueError(f"not an SQS queue ARN: {arn[:200]!r}")
    region, account, name = parts[3], parts[4], parts[5]
    if name == settings.crawl_queue_name and (settings.crawl_queue_url or settings.sqs_endpoint_url):
        return crawl_queue_url(settings)
    if settings.sqs_endpoint_url:
        return f"{settings.sqs_endpoint_url.rstrip('/')}/{account}/{name}"
    return f"https://sqs.{region}.amazonaws.com/{account}/{name}"


def change_visibility(queue_url: str, entries: list[dict[str, Any]]) -> int:
    """ChangeMessageVisibilityBatch for entries {ReceiptHandle, VisibilityTimeout}, in tens, failing
    fast (one retry); the number changed. Raises QueueError when the queue cannot be reached."""
    client = get_client(attempts=2)
    changed = 0
    for start in range(0, len(entries), BATCH_SIZE):
        chunk = entries[start : start + BATCH_SIZE]
        try:
            response = client.change_message_visibility_batch(
                QueueUrl=queue_url, Entries=[{"Id": str(i), **entry} for i, entry in enumerate(chunk)]
            )
        except (ClientError, BotoCoreError) as exc:
            raise QueueError(f"could not change message visibility: {exc}") from exc
        changed += len(response.get("Successful", []))
        for failure in response.get("Failed", []):
            log.warning("visibility change refused: %s %s", failure.get("Code"), failure.get("Message", ""))
    return changed


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
    """Make the Lambda SQS `records` visible again after retry_delay(their receive count), or after
    `at_least[messageId]` seconds when that is longer (a host paused for that long); how many were
    changed. Never raises: a message that could not be given back reappears after the visibility
    timeout."""
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
            log.warning("could not give %d message(s) back early: %s", len(entries), one_line(exc))
    return changed


def send_messages(
    bodies: Iterable[BaseModel | dict[str, Any]],
    *,
    queue_url: str | None = None,
    max_attempts: int = 5,
    backoff: float = 0.2,
) -> int:
    """Send messages with SendMessageBatch in tens (`SEND_THREADS` batches at once); retry entries
    SQS reports as `Failed`. A message model (pipeline/messages.py) is sent as its
    `model_dump_json()`, a dict as its JSON.

    Returns how many messages were sent; raises QueueError when a batch keeps failing.
    """
    client = get_client()
    url = queue_url or crawl_queue_url()
    pending = [
        body.model_dump_json() if isinstance(body, BaseModel) else json.dumps(body, separators=(",", ":"), default=str)
        for body in bodies
    ]
    chunks = [
        {str(i): text for i, text in enumerate(pending[start : start + BATCH_SIZE])}
        for start in range(0, len(pending), BATCH_SIZE)
    ]

    def send(chunk: dict[str, str]) -> int:
        return _send_chunk(client, url, chunk, max_attempts=max_attempts, backoff=backoff)

    if len(chunks) <= 1:
        return sum(map(send, chunks))
    # One round trip per ten messages: sent one after another, 2,000 messages took 2.4 s.
    with ThreadPoolExecutor(max_workers=min(SEND_THREADS, len(chunks)), thread_name_prefix="sqs-send") as pool:
        return sum(pool.map(send, chunks))


def _send_chunk(client: Any, url: str, chunk: dict[str, str], *, max_attempts: int, backoff: float) -> int:
    remaining = dict(chunk)
    last_error = ""
    for attempt in range(1, max_attempts + 1):
        try:
            response = client.send_message_batch(
                QueueUrl=url, Entries=[{"Id": key, "MessageBody": text} for key, text in remaining.items()]
            )
        except (ClientError, BotoCoreError) as exc:
            last_error = str(exc)
        else:
            for entry in response.get("Successful", []):
                remaining.pop(entry["Id"], None)
            failed = response.get("Failed", [])
            if failed:
                last_error = "; ".join(f"{f.get('Code')}: {f.get('Message', '')}".strip() for f in failed[:3])
                senders_fault = [f for f in failed if f.get("SenderFault")]
                if senders_fault:  # retrying the same entry cannot help
                    raise QueueError(f"SQS rejected {len(senders_fault)} message(s): {last_error}")
        if not remaining:
            return len(chunk)
        if attempt < max_attempts:
            log.warning("send: %d of %d entries failed (%s); retrying", len(remaining), len(chunk), last_error)
            time.sleep(backoff * 2 ** (attempt - 1))
    raise QueueError(
        f"could not send {len(remaining)} message(s) to the crawl queue after {max_attempts} attempts: {last_error}"
    )


def ensure_queues(
    *,
    queue_name: str | None = None,
    visibility_timeout: int = VISIBILITY_TIMEOUT,
    max_receive_count: int = MAX_RECEIVE_COUNT,
    wait_time_seconds: int = LONG_POLL_SECONDS,
) -> str:
    """Create the crawl queue and its dead-letter queue if missing; return the crawl queue URL.

    The attributes are the production ones unless a caller (a test) asks otherwise.
    """
    settings = get_settings()
    name = queue_name or settings.crawl_queue_name
    client = get_client(settings)
    try:
        dlq_url = client.create_queue(
            QueueName=dlq_name(name), Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)}
        )["QueueUrl"]
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = client.create_queue(
            QueueName=name,
            Attributes={
                "VisibilityTimeout": str(visibility_timeout),
                "MessageRetentionPeriod": str(RETENTION_SECONDS),
                "ReceiveMessageWaitTimeSeconds": str(wait_time_seconds),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
                ),
            },
        )["QueueUrl"]
    except (ClientError, BotoCoreError) as exc:
        raise QueueError(f"could not create queue {name!r}: {exc}") from exc
    with _lock:
        _queue_urls[(settings.sqs_endpoint_url, settings.aws_region, name)] = url
    return url


def queue_arn(url: str) -> str:
    try:
        attrs = get_client().get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    except (ClientError, BotoCoreError) as exc:
        raise QueueError(f"queue {url} is not reachable: {exc}") from exc
    return attrs["QueueArn"]


def _depth(url: str) -> dict[str, int]:
    attrs = get_client().get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return {
        "visible": int(attrs.get("ApproximateNumberOfMessages", 0)),
        "in_flight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
        "delayed": int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
    }


def queue_depths(queue_name: str | None = None) -> dict[str, Any]:
    """Approximate message counts of the crawl queue and its DLQ (the DLQ holds given-up items)."""
    settings = get_settings()
    name = queue_name or settings.crawl_queue_name
    try:
        url = crawl_queue_url(settings) if queue_name is None else queue_url_for(name, settings)
        return {
            "queue": {"name": name, "url": url, **_depth(url)},
            "dlq": {"name": dlq_name(name), "url": (dlq := queue_url_for(dlq_name(name), settings)), **_depth(dlq)},
        }
    except (ClientError, BotoCoreError) as exc:
        raise QueueError(f"queue {name!r} is not reachable: {exc}") from exc
