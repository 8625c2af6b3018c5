"""The crawl Lambda handler fed saved SQS events: partial batch responses on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from devtools.emulator import free_port
from devtools.poller import LocalContext
from ingest_app.core.pipeline.messages import ItemMessage
from lambda_worker import crawl_job_lambda, stale_run_lambda
from tests.support.pages import PageServer
from tests.support.runs import counters, item_bodies, item_counts, job_counts, run_row, seed_run
from tests.support.settings import override_settings

EVENTS = Path(__file__).parent / "events"


@pytest.fixture
def context() -> LocalContext:
    return LocalContext(function_name="crawl-job-worker", aws_request_id="test-request")


def load_event(name: str, bodies: list[ItemMessage | dict[str, Any]] | None = None) -> dict[str, Any]:
    event = json.loads((EVENTS / name).read_text())
    for record, body in zip(event["Records"], bodies or [], strict=False):
        record["body"] = body.model_dump_json() if isinstance(body, ItemMessage) else json.dumps(body)
    return event


def failures(response: dict[str, Any]) -> list[str]:
    return sorted(f["itemIdentifier"] for f in response["batchItemFailures"])


@contextmanager
def database_unreachable() -> Iterator[None]:
    """Point the settings at a PostgreSQL port where nothing listens."""
    with override_settings(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"):
        yield


def test_a_batch_is_recorded_and_a_missing_page_is_a_failed_item_not_a_retry(
    session, engine, make_user, page_server: PageServer, context
) -> None:
    user = make_user()
    urls = [page_server.url(1), page_server.base_url + "/gone/2", page_server.url(3)]
    run_id, _ = seed_run(session, user.id, urls)
    event = load_event("sqs_batch.json", item_bodies(session, run_id))

    response = crawl_job_lambda.handler(event, context)

    assert response == {"batchItemFailures": []}
    assert counters(engine, run_id) == {
        "status": "completed",
        "total_jobs_found": 3,
        "jobs_processed": 3,
        "jobs_added": 2,
        "jobs_failed": 1,
        "jobs_archived": 0,
    }
    assert job_counts(engine, user.id) == {"active": 2}


def test_a_page_that_is_not_a_job_is_skipped_not_failed_and_its_redelivery_counts_once(
    session, engine, make_user, page_server: PageServer, context
) -> None:
    user = make_user()
    urls = [page_server.url(1), page_server.not_a_job_url(2), page_server.url(3)]
    run_id, _ = seed_run(session, user.id, urls)
    event = load_event("sqs_batch.json", item_bodies(session, run_id))

    assert crawl_job_lambda.handler(event, context) == {"batchItemFailures": []}
    assert crawl_job_lambda.handler(event, context) == {"batchItemFailures": []}  # SQS delivers it again

    assert counters(engine, run_id) == {
        "status": "completed",
        "total_jobs_found": 3,
        "jobs_processed": 3,
        "jobs_added": 2,
        "jobs_failed": 0,
        "jobs_archived": 0,
    }
    assert run_row(engine, run_id).jobs_skipped == 1
    assert item_counts(engine, run_id) == {"succeeded": 2, "skipped": 1}
    assert job_counts(engine, user.id) == {"active": 2}


def test_malformed_bodies_are_dropped_not_retried(session, engine, make_user, context) -> None:
    user = make_user()
    run_id, _ = seed_run(session, user.id, ["http://127.0.0.1:9/jobs/1"])

    response = crawl_job_lambda.handler(load_event("sqs_malformed.json"), context)

    assert response == {"batchItemFailures": []}
    assert counters(engine, run_id)["jobs_processed"] == 0
    assert item_counts(engine, run_id) == {"pending": 1}


def test_database_unreachable_reports_the_records_for_redelivery_then_they_count_once(
    session, engine, make_user, page_server: PageServer, context
) -> None:
    user = make_user()
    run_id, _ = seed_run(session, user.id, [page_server.url(1), page_server.url(2)])
    bodies = item_bodies(session, run_id) + [{"run_id": run_id, "url": "no item id"}]
    event = load_event("sqs_batch.json", bodies)
    valid_ids = sorted(r["messageId"] for r in event["Records"][:2])

    with database_unreachable():
        response = crawl_job_lambda.handler(event, context)
    assert failures(response) == valid_ids  # the malformed third record is dropped, not retried
    assert counters(engine, run_id)["jobs_processed"] == 0

    # SQS delivers the reported records again once the database is back.
    redelivery = {"Records": [r for r in event["Records"] if r["messageId"] in valid_ids]}
    assert crawl_job_lambda.handler(redelivery, context) == {"batchItemFailures": []}
    assert crawl_job_lambda.handler(redelivery, context) == {"batchItemFailures": []}  # a duplicate
    assert counters(engine, run_id) == {
        "status": "completed",
        "total_jobs_found": 2,
        "jobs_processed": 2,
        "jobs_added": 2,
        "jobs_failed": 0,
        "jobs_archived": 0,
    }


def test_messages_of_a_reset_run_change_nothing(session, engine, make_user, page_server: PageServer, context) -> None:
    from ingest_app.core.pipeline import reset_run

    user = make_user()
    run_id, _ = seed_run(session, user.id, [page_server.url(1), page_server.url(2)])
    reset_run(session, user.id, run_id)
    event = load_event("sqs_batch.json", item_bodies(session, run_id))

    assert crawl_job_lambda.handler(event, context) == {"batchItemFailures": []}
    assert counters(engine, run_id)["status"] == "failed"
    assert counters(engine, run_id)["jobs_processed"] == 0
    assert job_counts(engine, user.id) == {}


def test_stale_run_handler_returns_the_detector_summary(context) -> None:
    result = stale_run_lambda.handler({"source": "aws.events", "detail-type": "Scheduled Event"}, context)
    assert result == {"checked": True, "actions": [], "count": 0}


def test_an_event_without_records_reports_nothing(context) -> None:
    assert crawl_job_lambda.handler({"Records": []}, context) == {"batchItemFailures": []}


def test_a_host_without_a_free_slot_gives_the_item_back_instead_of_failing_it(
    session, engine, make_user, page_server: PageServer, context, settings
) -> None:
    from ingest_app.core.crawl import politeness
    from ingest_app.core.crawl.urls import host_key

    settings(crawler_per_host_concurrency=1, crawler_slot_wait_seconds=0.5)
    user = make_user()
    run_id, _ = seed_run(session, user.id, [page_server.url(1)])
    event = load_event("sqs_batch.json", item_bodies(session, run_id))
    event["Records"] = event["Records"][:1]
    other_process = politeness.FleetBudget()  # another worker holds the host's only slot
    held = other_process.acquire(host_key(page_server.url(1)), 1, timeout=1.0)
    previous = politeness.set_budget(politeness.FleetBudget())
    try:
        busy = crawl_job_lambda.handler(event, context)
        assert failures(busy) == [event["Records"][0]["messageId"]]
        assert item_counts(engine, run_id) == {"pending": 1}  # not failed: it comes back
        other_process.release(held, 1)
        assert crawl_job_lambda.handler(event, context) == {"batchItemFailures": []}
    finally:
        politeness.set_budget(previous)
        other_process.dispose()
    assert counters(engine, run_id)["status"] == "completed" and item_counts(engine, run_id) == {"succeeded": 1}


def test_a_listing_message_is_dispatched_to_stage3_and_a_bad_type_is_dropped(
    session, engine, make_user, context, settings
):
    from ingest_app.core.models import IngestionRun

    # The board API is a loopback port where nothing listens: the listing fails at once.
    settings(greenhouse_api_base=f"http://127.0.0.1:{free_port()}")
    settings(crawler_max_retries=0)

    user = make_user()
    run = IngestionRun(
        user_id=user.id,
        status="archiving",
        current_stage=3,
        companies=[{"company_id": None, "name": "Nowhere", "source": "greenhouse:nowhere"}],
    )
    session.add(run)
    session.commit()
    bodies = [{"type": "listing", "run_id": run.run_id, "company_index": 0}, {"type": "sideways", "run_id": 1}]
    event = load_event("sqs_batch.json", bodies)
    event["Records"] = event["Records"][:2]

    assert crawl_job_lambda.handler(event, context) == {"batchItemFailures": []}

    # The listing failed (nothing answers), so it is recorded per company and nothing is archived.
    row = counters(engine, run.run_id)
    assert (row["status"], row["total_jobs_found"]) == ("completed", 0)
    with engine.connect() as conn:
        [company] = conn.execute(
            sa.text("SELECT companies FROM ingestion_runs WHERE run_id = :r"), {"r": run.run_id}
        ).scalar()
    assert company["error"] and company["skipped_reason"] == "listing failed; archiving skipped"
