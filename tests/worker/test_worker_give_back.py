"""Messages that meet an infrastructure error are given back to the real queue with a short delay
that grows with their receive count, instead of staying invisible for the visibility timeout."""

from __future__ import annotations

import json
import os
import time

import pytest

from devtools.emulator import free_port
from devtools.poller import LocalContext, to_lambda_record
from ingest_app.core import queue as q
from ingest_app.core.db import database_health
from lambda_worker import crawl_job_lambda
from tests.support.emulator import make_test_queue
from tests.support.settings import apply_env, override_settings


@pytest.fixture
def slow_queue(sqs_emulator):
    queue, previous = make_test_queue(sqs_emulator, visibility_timeout=1800)
    try:
        yield queue
    finally:
        apply_env(previous)


def test_a_message_given_back_returns_after_a_delay_that_grows_per_receive(slow_queue) -> None:
    q.send_messages([{"run_id": 1, "item_id": 1}])
    client = q.get_client()
    arn = q.queue_arn(slow_queue.url)
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    gaps: list[float] = []
    counts: list[str] = []
    given_back_at: float | None = None
    fast = {"WORKER_RETRY_DELAY_SECONDS": "1", "WORKER_RETRY_DELAY_MAX_SECONDS": "5", "DATABASE_URL": nowhere}
    with override_settings(fast):
        for _ in range(4):
            deadline = time.monotonic() + 12
            messages: list[dict] = []
            while not messages and time.monotonic() < deadline:
                messages = client.receive_message(
                    QueueUrl=slow_queue.url, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]
                ).get("Messages", [])
            assert messages, "the message did not come back within 10 s"
            if given_back_at is not None:
                gaps.append(time.monotonic() - given_back_at)
            counts.append(messages[0]["Attributes"]["ApproximateReceiveCount"])
            event = {"Records": [to_lambda_record(messages[0], arn=arn, region="us-east-1")]}
            response = crawl_job_lambda.handler(event, LocalContext())
            given_back_at = time.monotonic()
            assert response == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
    assert os.environ["DATABASE_URL"] != nowhere
    assert database_health.probe() is True  # this process sees the database again
    assert counts == ["1", "2", "3", "4"]
    # 1 s, 3 s, 5 s (the maximum): never the 1800 s visibility timeout.
    for gap, expected in zip(gaps, (1, 3, 5), strict=True):
        assert expected - 0.3 <= gap <= expected + 2.5, gaps
    assert json.loads(messages[0]["Body"]) == {"run_id": 1, "item_id": 1}


def test_while_the_database_is_down_a_lambda_batch_goes_back_uncrawled_then_counts_once_it_is_back(
    session, engine, make_user, page_server, slow_queue
) -> None:
    from tests.support.runs import counters, item_bodies, seed_run
    from tests.support.tcp_proxy import database_proxy

    user = make_user()
    run_id, _ = seed_run(session, user.id, [page_server.url(1), page_server.url(2)])
    q.send_messages(item_bodies(session, run_id))
    client = q.get_client()
    arn = q.queue_arn(slow_queue.url)

    def receive_event() -> dict:
        messages: list[dict] = []
        deadline = time.monotonic() + 12
        while len(messages) < 2 and time.monotonic() < deadline:
            messages += client.receive_message(
                QueueUrl=slow_queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]
            ).get("Messages", [])
        assert len(messages) == 2
        return {"Records": [to_lambda_record(m, arn=arn, region="us-east-1") for m in messages]}

    with database_proxy(os.environ["DATABASE_URL"]) as proxy:
        env = {"DATABASE_URL": proxy.url(os.environ["DATABASE_URL"]), "WORKER_RETRY_DELAY_SECONDS": "1"}
        with override_settings(env):
            proxy.close()
            first = crawl_job_lambda.handler(receive_event(), LocalContext())  # learns the database is down
            assert database_health.is_down
            second = crawl_job_lambda.handler(receive_event(), LocalContext())  # came back after 1 s
            assert page_server.requests == []  # nothing crawled while the database is down
            proxy.open()
            third = crawl_job_lambda.handler(receive_event(), LocalContext())  # came back after 3 s
    assert len(first["batchItemFailures"]) == len(second["batchItemFailures"]) == 2
    assert third == {"batchItemFailures": []}
    assert not database_health.is_down
    assert counters(engine, run_id)["status"] == "completed"
    assert counters(engine, run_id)["jobs_added"] == 2
