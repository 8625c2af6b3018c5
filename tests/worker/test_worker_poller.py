"""The local event-source mapping against the real emulator: Lambda-shaped records, deletes what
succeeded, leaves reported failures to reappear, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import signal
import threading
import time
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSEvent

from devtools.poller import Poller, to_lambda_record
from ingest_app.core import queue as q
from tests.support.emulator import LocalQueue, make_test_queue
from tests.support.settings import apply_env
from tests.support.worker import start_worker, stop_worker


def test_records_have_the_fields_lambda_delivers(crawl_queue: LocalQueue) -> None:
    q.send_messages([{"run_id": 7, "item_id": 3, "url": "http://127.0.0.1/job/3"}])
    message = q.get_client().receive_message(
        QueueUrl=crawl_queue.url, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"][0]
    record = to_lambda_record(message, arn=q.queue_arn(crawl_queue.url), region="us-east-1")
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":" + crawl_queue.name)
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    parsed = next(iter(SQSEvent({"Records": [record]}).records))
    assert parsed.message_id == message["MessageId"]
    assert parsed.json_body == {"run_id": 7, "item_id": 3, "url": "http://127.0.0.1/job/3"}
    assert parsed.md5_of_body == message["MD5OfBody"]


def _failing_odd_items(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A handler with the crawl handler's contract: odd item ids are reported as failures."""
    assert context.get_remaining_time_in_millis() > 0
    return {
        "batchItemFailures": [
            {"itemIdentifier": r["messageId"]} for r in event["Records"] if json.loads(r["body"])["item_id"] % 2
        ]
    }


def test_poller_deletes_successes_and_leaves_reported_failures_to_reappear(sqs_emulator) -> None:
    queue, previous = make_test_queue(sqs_emulator, visibility_timeout=2)
    try:
        q.send_messages([{"run_id": 1, "item_id": i, "url": f"u{i}"} for i in range(20)])
        poller = Poller(concurrency=2, wait_time_seconds=1, stale_interval_seconds=0, handler=_failing_odd_items)
        thread = threading.Thread(target=poller.run)
        thread.start()
        deadline = time.monotonic() + 10
        while poller.stats.received < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        poller.stop()
        thread.join(10)
        assert not thread.is_alive()
        assert poller.stats.deleted == 10
        assert poller.stats.reported_failures == 10
        # The 10 failures come back after the visibility timeout, received a second time.
        client = q.get_client()
        again: list[dict] = []
        deadline = time.monotonic() + 10
        while len(again) < 10 and time.monotonic() < deadline:
            resp = client.receive_message(
                QueueUrl=queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]
            )
            again += resp.get("Messages", [])
        assert sorted(json.loads(m["Body"])["item_id"] for m in again) == list(range(1, 20, 2))
        assert {m["Attributes"]["ApproximateReceiveCount"] for m in again} == {"2"}
    finally:
        apply_env(previous)


def test_worker_process_stops_cleanly_on_sigterm(crawl_queue: LocalQueue, tmp_path) -> None:
    metrics = tmp_path / "metrics.json"
    proc = start_worker(concurrency=2, wait_time=1, metrics_file=metrics)  # returns once it polls
    time.sleep(0.5)
    assert proc.poll() is None, "the worker exited on its own"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    summary = json.loads(metrics.read_text())
    assert summary["handler_errors"] == 0
    assert summary["peak_rss_mb"] > 0
    assert stop_worker(proc) == 0


_POOL_SIZE_SCRIPT = """
import json, os
from devtools.poller import _size_db_pool
from ingest_app.core.settings import get_settings
_size_db_pool(4)
s = get_settings()
print(json.dumps([s.db_pool_size, s.db_max_overflow, "DB_POOL_SIZE" in os.environ]))
"""


def _pool_size_in_a_fresh_worker(**env: str) -> list:
    import os
    import subprocess
    import sys

    from ingest_app.core.settings import PROJECT_ROOT

    clean = {k: v for k, v in os.environ.items() if k not in ("DB_POOL_SIZE", "DB_MAX_OVERFLOW")}
    result = subprocess.run(
        [sys.executable, "-c", _POOL_SIZE_SCRIPT],
        env={**clean, "WORKER_BATCH_CONCURRENCY": "4", **env},
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)


def test_the_worker_sizes_its_pool_in_its_settings_unless_configured() -> None:
    assert _pool_size_in_a_fresh_worker() == [16, 0, False]  # 4 batches x 4 crawls, nothing exported
    assert _pool_size_in_a_fresh_worker(DB_POOL_SIZE="3") == [3, 10, True]
