"""The SQS port against the real local emulator: attributes, batching, errors, DLQ depth."""

from __future__ import annotations

import json
import time

import pytest

from ingest_app.core import queue as q
from tests.support.emulator import LocalQueue


def _receive_all(url: str, expected: int, timeout: float = 10.0) -> list[dict]:
    client = q.get_client()
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(got) < expected and time.monotonic() < deadline:
        resp = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in resp.get("Messages", []):
            got.append(message)
            client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return got


def test_ensure_queues_creates_queue_and_dlq_with_production_attributes(crawl_queue: LocalQueue) -> None:
    url = q.ensure_queues(queue_name=crawl_queue.name + "-prod")
    client = q.get_client()
    attrs = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "1800"
    assert attrs["MessageRetentionPeriod"] == "86400"
    assert attrs["ReceiveMessageWaitTimeSeconds"] == "20"
    redrive = json.loads(attrs["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == 5
    assert redrive["deadLetterTargetArn"].endswith(":" + q.dlq_name(crawl_queue.name + "-prod"))
    dlq_url = q.queue_url_for(q.dlq_name(crawl_queue.name + "-prod"))
    dlq_attrs = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["MessageRetentionPeriod"])
    assert dlq_attrs["Attributes"]["MessageRetentionPeriod"] == str(14 * 24 * 3600)
    # Idempotent: a second call returns the same queue.
    assert q.ensure_queues(queue_name=crawl_queue.name + "-prod") == url


def test_send_messages_delivers_every_body_once_in_batches_of_ten(crawl_queue: LocalQueue) -> None:
    bodies = [{"run_id": 1, "item_id": i, "url": f"http://127.0.0.1/job/{i}"} for i in range(25)]
    assert q.send_messages(bodies) == 25
    received = _receive_all(crawl_queue.url, 25)
    assert sorted(json.loads(m["Body"])["item_id"] for m in received) == list(range(25))


def test_send_messages_to_a_missing_queue_raises_queue_error(crawl_queue: LocalQueue) -> None:
    missing = crawl_queue.url + "-does-not-exist"
    with pytest.raises(q.QueueError, match="after 2 attempts"):
        q.send_messages([{"run_id": 1, "item_id": 1, "url": "u"}], queue_url=missing, max_attempts=2, backoff=0.01)


def test_an_entry_sqs_rejects_raises_queue_error_at_once(crawl_queue: LocalQueue) -> None:
    too_big = {"run_id": 1, "item_id": 2, "url": "u", "hints": {"blob": "x" * 300_000}}
    with pytest.raises(q.QueueError, match="rejected 1 message"):
        q.send_messages([{"run_id": 1, "item_id": 1, "url": "u"}, too_big], backoff=0.01)
    # The valid entry of the batch was sent.
    assert [json.loads(m["Body"])["item_id"] for m in _receive_all(crawl_queue.url, 1)] == [1]


def test_queue_depths_count_messages_redriven_to_the_dlq(sqs_emulator) -> None:
    from tests.support.emulator import make_test_queue
    from tests.support.settings import apply_env

    queue, previous = make_test_queue(sqs_emulator, visibility_timeout=1, max_receive_count=1)
    try:
        q.send_messages([{"run_id": 1, "item_id": 1, "url": "u"}])
        client = q.get_client()
        first = client.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=1, WaitTimeSeconds=1)
        assert len(first["Messages"]) == 1  # received once, never deleted
        time.sleep(1.2)
        client.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=1, WaitTimeSeconds=1)
        depths = q.queue_depths()
        assert depths["dlq"]["visible"] == 1
        assert depths["queue"]["visible"] + depths["queue"]["in_flight"] == 0
    finally:
        apply_env(previous)
