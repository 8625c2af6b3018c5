"""The crawl handler trusts only the item row (a forged message names an item, it cannot choose
what is fetched), and a slow page is given its own deadline: the rest of its batch is recorded
without waiting for it."""

from __future__ import annotations

import hashlib
import json
import threading
import time

import pytest

from devtools.poller import LocalContext
from ingest_app.core.pipeline.messages import ItemMessage
from lambda_worker import crawl_job_lambda
from tests.support.pages import PageServer
from tests.support.runs import counters, item_bodies, item_states, run_row, seed_run


def _event(bodies: list[ItemMessage | dict]) -> dict:
    """A Lambda SQS event, every record as Lambda delivers it."""
    texts = [b.model_dump_json() if isinstance(b, ItemMessage) else json.dumps(b) for b in bodies]
    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": f"h-{i}",
                "body": text,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1545082649183",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1545082649185",
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(text.encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:job-ingest-crawl",
                "awsRegion": "us-east-1",
            }
            for i, text in enumerate(texts)
        ]
    }


@pytest.fixture
def attacker() -> PageServer:
    server = PageServer()
    yield server
    server.stop()


def test_a_forged_message_cannot_replace_a_job_with_other_content(
    session, engine, make_user, page_server: PageServer, attacker: PageServer
) -> None:
    import sqlalchemy as sa

    from ingest_app.core.models import Job

    user = make_user()
    run_id, item_ids = seed_run(session, user.id, [page_server.url(1)])
    # Anyone who can send to the queue: the right ids, another page and other hints.
    forged = {
        "run_id": run_id,
        "item_id": item_ids[0],
        "url": attacker.url(666),
        "company": "Evil Corp",
        "hints": {"company": "Evil Corp", "source": "careers"},
    }

    response = crawl_job_lambda.handler(_event([forged]), LocalContext())

    assert response == {"batchItemFailures": []}
    assert attacker.requests == []  # the forged URL was never fetched
    assert page_server.requests.count("/jobs/1") == 1
    jobs = Job.__table__
    with engine.connect() as conn:
        (job,) = conn.execute(sa.select(jobs).where(jobs.c.user_id == user.id)).all()
    assert (job.source_url, job.title, job.company) == (page_server.url(1), "Engineer 1", "Acme")
    assert "666" not in (job.apply_url or "") and attacker.base_url not in (job.apply_url or "")
    assert counters(engine, run_id)["status"] == "completed"


def test_a_forged_message_for_an_item_of_another_run_changes_nothing(
    session, engine, make_user, page_server: PageServer, attacker: PageServer
) -> None:
    victim, other = make_user(), make_user()
    victim_run, victim_items = seed_run(session, victim.id, [page_server.url(1)])
    other_run, _ = seed_run(session, other.id, [page_server.url(2)])
    forged = {"run_id": other_run, "item_id": victim_items[0], "url": attacker.url(1)}

    assert crawl_job_lambda.handler(_event([forged]), LocalContext()) == {"batchItemFailures": []}

    assert attacker.requests == [] and page_server.requests == []
    assert counters(engine, victim_run)["jobs_processed"] == 0
    assert counters(engine, other_run)["jobs_processed"] == 0


def test_a_slow_page_does_not_hold_back_the_rest_of_its_batch(
    session, engine, make_user, page_server: PageServer, settings, record_property
) -> None:
    settings(WORKER_ITEM_TIMEOUT_SECONDS="2", CRAWLER_READ_TIMEOUT="30")
    user = make_user()
    urls = [page_server.url(n) for n in range(9)] + [page_server.slow_url(9, seconds=8)]
    run_id, _ = seed_run(session, user.id, urls)
    event = _event(item_bodies(session, run_id))
    responses: list[dict] = []
    started = time.monotonic()
    handler = threading.Thread(target=lambda: responses.append(crawl_job_lambda.handler(event, LocalContext())))
    handler.start()

    # The nine fast pages are recorded while the slow one is still being fetched.
    while counters(engine, run_id)["jobs_processed"] < 9 and time.monotonic() - started < 5:
        time.sleep(0.05)
    nine_recorded = time.monotonic() - started
    handler.join(20)
    returned = time.monotonic() - started

    record_property("nine_fast_items_recorded_after", round(nine_recorded, 2))
    record_property("batch_returned_after", round(returned, 2))
    assert nine_recorded < 1.5, f"the fast items waited {nine_recorded:.1f} s"
    assert handler.is_alive() is False and returned < 5, f"the batch took {returned:.1f} s"
    assert responses == [{"batchItemFailures": []}]
    assert counters(engine, run_id) == {
        "status": "completed",
        "total_jobs_found": 10,
        "jobs_processed": 10,
        "jobs_added": 9,
        "jobs_failed": 1,
        "jobs_archived": 0,
    }

    state, error = item_states(engine, run_id)[urls[9]]
    assert state == "failed" and error.startswith("timeout:") and "2 s" in error
    assert run_row(engine, run_id).completed_at is not None
