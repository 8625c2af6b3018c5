"""Local event-source mapping: what AWS Lambda's SQS trigger does, for development and tests.

Long-polls the crawl queue for batches of up to 10, runs `concurrency` batches at once, hands each
batch to `crawl_job_lambda.handler` as a Lambda SQS event, deletes the records that succeeded and
leaves the reported failures to the queue (the handler has given them back with a short delay).
While the database is down it receives nothing: one thread probes the database every
WORKER_DB_PROBE_SECONDS and polling resumes when it answers, so an outage does not drain the queue
into failures. Runs the stale-run detector on a timer. SIGTERM/SIGINT stop it after the in-flight
batches finish (a second signal exits now).
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import os
import resource
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ingest_app.core.db import database_health, is_connection_error, one_line
from ingest_app.core.pipeline.process import set_observer
from ingest_app.core.queue import crawl_queue_url, get_client, give_back, queue_arn
from ingest_app.core.settings import get_settings, override_settings
from lambda_worker import crawl_job_lambda, schedule_lambda, stale_run_lambda

log = logging.getLogger(__name__)

FUNCTION_TIMEOUT_SECONDS = 300
FUNCTION_NAME = "crawl-job-worker-local"


@dataclass
class LocalContext:
    """The attributes of a Lambda context object that handlers and powertools read."""

    function_name: str = FUNCTION_NAME
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = f"/aws/lambda/{FUNCTION_NAME}"
    log_stream_name: str = "local"
    invoked_function_arn: str = f"arn:aws:lambda:us-east-1:000000000000:function:{FUNCTION_NAME}"
    deadline: float = field(default_factory=lambda: time.monotonic() + FUNCTION_TIMEOUT_SECONDS)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass
class PollerStats:
    batches: int = 0
    received: int = 0
    deleted: int = 0
    reported_failures: int = 0
    handler_errors: int = 0
    released: int = 0
    db_pauses: int = 0
    paused_seconds: float = 0.0
    # CPU this process spent receiving and deleting messages: on AWS the event-source mapping does
    # that, not the Lambda, so benchmarks report it apart from the handler's own cost.
    sqs_cpu_seconds: float = 0.0
    results: collections.Counter = field(default_factory=collections.Counter)
    item_seconds: collections.deque = field(default_factory=lambda: collections.deque(maxlen=100_000))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def observe(self, result: str, seconds: float) -> None:
        with self._lock:
            self.results[result] += 1
            self.item_seconds.append(seconds)

    def add(self, **counts: float) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "pid": os.getpid(),
                "batches": self.batches,
                "received": self.received,
                "deleted": self.deleted,
                "reported_failures": self.reported_failures,
                "handler_errors": self.handler_errors,
                "released": self.released,
                "db_pauses": self.db_pauses,
                "paused_seconds": round(self.paused_seconds, 3),
                "sqs_cpu_seconds": round(self.sqs_cpu_seconds, 4),
                "results": dict(self.results),
                "item_seconds": list(self.item_seconds),
                "peak_rss_mb": peak_rss_mb(),
            }


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: the latter keeps the peak of the
    process that forked us (it survives exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _lambda_message_attributes(attrs: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in (attrs or {}).items():
        out[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value.get("DataType", "String"),
        }
    return out


def to_lambda_record(message: dict[str, Any], *, arn: str, region: str) -> dict[str, Any]:
    """An SQS ReceiveMessage entry in the shape Lambda's event source mapping delivers."""
    body = message.get("Body", "")
    attrs = dict(message.get("Attributes") or {})
    attrs.setdefault("ApproximateReceiveCount", "1")
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": attrs,
        "messageAttributes": _lambda_message_attributes(message.get("MessageAttributes", {})),
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": region,
    }


class Poller:
    def __init__(
        self,
        *,
        queue_url: str | None = None,
        concurrency: int | None = None,
        wait_time_seconds: int | None = None,
        stale_interval_seconds: float | None = None,
        handler: Callable[[dict[str, Any], Any], dict[str, Any]] = crawl_job_lambda.handler,
        shutdown_grace: float = 2.0,
    ) -> None:
        settings = get_settings()
        self.queue_url = queue_url or crawl_queue_url(settings)
        self.concurrency = concurrency or settings.worker_concurrency
        self.wait_time = settings.worker_wait_time_seconds if wait_time_seconds is None else wait_time_seconds
        self.stale_interval = (
            settings.stale_check_interval_seconds if stale_interval_seconds is None else stale_interval_seconds
        )
        self.region = settings.aws_region
        self.handler = handler
        self.client = get_client(settings)
        self.stats = PollerStats()
        self.stopping = threading.Event()
        self.shutdown_grace = shutdown_grace
        self._arn: str | None = None
        self._signals = 0
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._stopped_at: float | None = None

    # lifecycle -----------------------------------------------------------------------------

    def stop(self) -> None:
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        def _on_signal(signum: int, _frame: Any) -> None:
            self._signals += 1
            if self._signals > 1:
                log.warning("second signal: exiting without waiting for in-flight batches")
                os._exit(128 + signum)
            log.info("signal %s: finishing in-flight batches, then stopping", signum)
            self.stop()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)

    def run(self) -> PollerStats:
        """Poll until stop(); returns the counters."""
        set_observer(self.stats.observe)
        threads = [threading.Thread(target=self._loop, name=f"poll-{i}", daemon=True) for i in range(self.concurrency)]
        if self.stale_interval and self.stale_interval > 0:
            threads.append(threading.Thread(target=self._stale_loop, name="stale", daemon=True))
        if get_settings().tracking_tick_seconds > 0:
            threads.append(threading.Thread(target=self._tracking_loop, name="tracking", daemon=True))
        for thread in threads:
            thread.start()
        log.info("polling %s with %d concurrent batches", self.queue_url, self.concurrency)
        while any(t.is_alive() for t in threads):
            for thread in threads:
                thread.join(timeout=0.1)
            if self._may_leave_now():
                break
        set_observer(None)
        return self.stats

    def _may_leave_now(self) -> bool:
        """After stop(): once no batch is in flight, threads still blocked in a long poll get
        `shutdown_grace` seconds (a receive that returns meanwhile releases its messages)."""
        if self._stopped_at is None:
            if not self.stopping.is_set():
                return False
            self._stopped_at = time.monotonic()
        with self._busy_lock:
            busy = self._busy
        return busy == 0 and time.monotonic() - self._stopped_at >= self.shutdown_grace

    # polling -------------------------------------------------------------------------------

    @property
    def arn(self) -> str:
        if self._arn is None:
            self._arn = queue_arn(self.queue_url)
        return self._arn

    def _wait_for_database(self) -> None:
        """While the database is known to be down: receive nothing; one thread probes it."""
        if not database_health.is_down:
            return
        self.stats.add(db_pauses=1)
        paused = time.monotonic()
        interval = get_settings().worker_db_probe_seconds
        while database_health.is_down and not self.stopping.is_set():
            if database_health.probe() is True:
                break
            self.stopping.wait(interval)
        self.stats.add(paused_seconds=time.monotonic() - paused)

    def _loop(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            self._wait_for_database()
            if self.stopping.is_set():
                break
            try:
                arn = self.arn
                cpu = time.thread_time()
                response = self.client.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=get_settings().worker_batch_size,
                    WaitTimeSeconds=self.wait_time,
                    MessageSystemAttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
                self.stats.add(sqs_cpu_seconds=time.thread_time() - cpu)
            except (ClientError, BotoCoreError, OSError) as exc:
                failures += 1
                delay = min(10.0, 0.5 * 2 ** min(failures, 5))
                log.warning("receive from %s failed (%s); retrying in %.1f s", self.queue_url, exc, delay)
                self.stopping.wait(delay)
                continue
            failures = 0
            messages = response.get("Messages") or []
            if not messages:
                continue
            with self._busy_lock:
                stopping = self.stopping.is_set()
                if not stopping:
                    self._busy += 1
            if stopping:
                self._release(messages)
                continue
            try:
                self._process_batch(messages, arn)
            finally:
                with self._busy_lock:
                    self._busy -= 1

    def _process_batch(self, messages: list[dict[str, Any]], arn: str) -> None:
        event = {"Records": [to_lambda_record(m, arn=arn, region=self.region) for m in messages]}
        self.stats.add(batches=1, received=len(messages))
        try:
            response = self.handler(event, LocalContext())
        except Exception as exc:
            # Like Lambda, a crashed invocation leaves the whole batch to be delivered again; it is
            # given back with the same short delay as a reported failure.
            if is_connection_error(exc):
                database_health.mark_down(exc)
            log.exception("handler raised; %d message(s) will be delivered again", len(messages))
            self.stats.add(handler_errors=1)
            give_back(event["Records"])
            return
        failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        self.stats.add(reported_failures=len(failed))
        self._delete(done)

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        remaining = {str(i): m["ReceiptHandle"] for i, m in enumerate(messages)}
        for attempt in range(3):
            if not remaining:
                break
            try:
                cpu = time.thread_time()
                response = self.client.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": key, "ReceiptHandle": handle} for key, handle in remaining.items()],
                )
                self.stats.add(sqs_cpu_seconds=time.thread_time() - cpu)
            except (ClientError, BotoCoreError, OSError) as exc:
                log.warning("delete failed (%s)", exc)
                time.sleep(0.2 * 2**attempt)
                continue
            for entry in response.get("Successful", []):
                remaining.pop(entry["Id"], None)
                self.stats.add(deleted=1)
        if remaining:
            # Harmless: the items are recorded, a redelivery is a no-op.
            log.warning("%d processed message(s) could not be deleted and will be delivered again", len(remaining))

    def _release(self, messages: list[dict[str, Any]]) -> None:
        """Messages received while stopping go back to the queue at once."""
        try:
            self.client.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(messages)
                ],
            )
            self.stats.add(released=len(messages))
        except (ClientError, BotoCoreError, OSError) as exc:
            log.warning("could not release %d message(s) (%s)", len(messages), exc)

    def _stale_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                stale_run_lambda.handler({}, LocalContext(function_name="stale-run-detector-local"))
            except Exception as exc:
                if is_connection_error(exc):
                    database_health.mark_down(exc)
                    log.warning("stale-run detector skipped: database unreachable (%s)", one_line(exc))
                else:
                    log.exception("stale-run detector failed")
            self.stopping.wait(self.stale_interval)

    def _tracking_loop(self) -> None:
        """Scheduled runs and digest deliveries (what the scheduled Lambda does on AWS)."""
        while not self.stopping.is_set():
            try:
                schedule_lambda.tick_once()
            except Exception:
                log.exception("tracking tick failed")
            self.stopping.wait(get_settings().tracking_tick_seconds)


def _size_db_pool(concurrency: int | None) -> None:
    """Unless configured, give the crawl threads a fixed pool: connections opened once and reused,
    never opened and closed per item as overflow connections would be."""
    settings = get_settings()
    if {"db_pool_size", "db_max_overflow"} & settings.model_fields_set:
        return
    threads = (concurrency or settings.worker_concurrency) * settings.worker_batch_concurrency
    override_settings(db_pool_size=max(settings.db_pool_size, min(threads, 20)), db_max_overflow=0)


def run_worker(
    *,
    concurrency: int | None = None,
    wait_time_seconds: int | None = None,
    stale_interval_seconds: float | None = None,
    metrics_file: Path | None = None,
) -> int:
    """The `python -m ingest_app worker` entry point."""
    logging.basicConfig(
        level=(get_settings().log_level or "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("botocore", "httpx", "httpcore"):  # one line per request otherwise
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _size_db_pool(concurrency)
    import ingest_app.core.crawl  # noqa: F401 - loaded before polling, not on the first batch
    import ingest_app.core.pipeline  # noqa: F401

    poller = Poller(
        concurrency=concurrency, wait_time_seconds=wait_time_seconds, stale_interval_seconds=stale_interval_seconds
    )
    poller.install_signal_handlers()
    stats = poller.run()
    summary = stats.as_dict()
    if metrics_file is not None:
        metrics_file.write_text(json.dumps(summary))
    summary.pop("item_seconds")
    log.info("stopped: %s", summary)
    return 0
