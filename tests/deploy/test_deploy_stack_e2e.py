"""Both CloudFormation stacks deployed to a local AWS run a real ingestion with the packaged zip.

ministack (127.0.0.1) creates the queues, roles, functions, schedule and event source mapping from
the templates; the zip is uploaded to its S3 and the test database URL to its Secrets Manager.
Stage 3 runs here and sends to the stack's queue; ministack's own event source mapping invokes
the packaged `lambda_worker.crawl_job_lambda.handler`, which writes to the test PostgreSQL.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from devtools.emulator import stop_process
from tests.support.database import TEST_DB_URL
from tests.support.local_aws import LOCAL_PYTHON, LambdaBuild, LocalAws, start_local_aws
from tests.support.settings import override_settings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "job-ingest-artifacts"


def deploy(aws: LocalAws, stack: str, template: str, parameters: dict[str, str]) -> dict[str, str]:
    """CreateStack, wait for it, return its outputs."""
    cfn = aws.client("cloudformation")
    cfn.create_stack(
        StackName=stack,
        TemplateBody=(ROOT / "cloudformation" / template).read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    deadline = time.monotonic() + 60
    while True:
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if not described["StackStatus"].endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    failures = [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
        for e in cfn.describe_stack_events(StackName=stack)["StackEvents"]
        if e["ResourceStatus"].endswith("FAILED")
    ]
    assert described["StackStatus"] == "CREATE_COMPLETE", failures
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


@pytest.fixture(scope="module")
def demo() -> Iterator[Any]:
    """Two companies, no rotation: 4 jobs on a Greenhouse board, 3 on a careers page, of which
    one job page answers 404 (a permanent crawl failure)."""
    from devtools.demo.site import DemoSite, start_demo_server

    site = DemoSite(rotate_min_interval=3600)
    site.add_company("Northwind Robotics", "greenhouse", slug="northwind", jobs=4)
    site.add_company("Juniper Health", "careers", slug="juniper", jobs=3)
    server = start_demo_server(site)
    broken = site.jobs("juniper")[-1]
    site.inject_failure(f"/jobs/juniper/{broken.id}", status=404)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def stacks(demo, lambda_build: LambdaBuild, tmp_path_factory) -> Iterator[dict[str, Any]]:
    # The functions reach the demo site through the emulator's environment (ministack's local
    # executor passes it on); the database URL only through the stack's secret.
    aws = start_local_aws(tmp_path_factory.mktemp("ministack-e2e") / "ministack.log", demo.settings_env())
    try:
        aws.client("s3").create_bucket(Bucket=BUCKET)
        key = f"lambda-worker-{secrets.token_hex(4)}.zip"
        aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=lambda_build.zip_path.read_bytes())
        secret_arn = aws.client("secretsmanager").create_secret(
            Name="job-ingest/database-url", SecretString=TEST_DB_URL
        )["ARN"]
        suffix = secrets.token_hex(3)
        queues = deploy(aws, f"ji-queues-{suffix}", "sqs-queues.yml", {"QueueName": f"ji-crawl-{suffix}"})
        functions = deploy(
            aws,
            f"ji-functions-{suffix}",
            "lambda-functions.yml",
            {
                "QueueStackName": f"ji-queues-{suffix}",
                "CodeS3Bucket": BUCKET,
                "CodeS3Key": key,
                "Runtime": f"python{LOCAL_PYTHON}",  # the emulator runs handlers with this interpreter
                "DatabaseUrlSecretArn": secret_arn,
                "MaximumConcurrency": "2",
            },
        )
        yield {"aws": aws, "queues": queues, "functions": functions}
    finally:
        stop_process(aws.process.pid, process=aws.process)


@pytest.fixture
def app_env(stacks, demo) -> Iterator[None]:
    """This process (the web app's side) sends to the stack's queue on the emulator."""
    env = {
        "SQS_ENDPOINT_URL": stacks["aws"].endpoint_url,
        "CRAWL_QUEUE_URL": stacks["queues"]["CrawlQueueUrl"],
        **demo.settings_env(),
    }
    with override_settings(env):
        yield


def wait_for_run(engine: sa.Engine, run_id: int, aws: LocalAws, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            query = sa.text("SELECT * FROM ingestion_runs WHERE run_id = :r")
            run = conn.execute(query, {"r": run_id}).mappings().one()
        if run["status"] in ("completed", "failed"):
            return dict(run)
        if time.monotonic() > deadline:
            pytest.fail(f"run {run_id} still {run['status']} ({dict(run)})\nministack log:\n{aws.log_tail()}")
        time.sleep(0.5)


def test_stacks_create_the_queue_and_functions_the_templates_describe(stacks):
    aws, queues, functions = stacks["aws"], stacks["queues"], stacks["functions"]
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=queues["CrawlQueueUrl"], AttributeNames=["All"])
    worker = aws.client("lambda").get_function_configuration(FunctionName=functions["CrawlWorkerFunctionName"])
    mapping = aws.client("lambda").get_event_source_mapping(UUID=functions["CrawlQueueEventSourceMappingId"])

    assert {k: attributes["Attributes"][k] for k in ("VisibilityTimeout", "MessageRetentionPeriod")} == {
        "VisibilityTimeout": "1800",
        "MessageRetentionPeriod": "86400",
    }
    assert (worker["Handler"], worker["MemorySize"], worker["Timeout"]) == (
        "lambda_worker.crawl_job_lambda.handler", 512, 300
    )  # fmt: skip
    assert "DATABASE_URL" not in worker["Environment"]["Variables"]
    assert mapping["EventSourceArn"] == queues["CrawlQueueArn"]
    assert (mapping["BatchSize"], mapping["FunctionResponseTypes"]) == (10, ["ReportBatchItemFailures"])
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 2}


def test_an_ingestion_runs_through_the_deployed_queue_and_packaged_worker(stacks, app_env, demo, session, make_user):
    from ingest_app.core.companies import add_company
    from ingest_app.core.db import get_engine
    from ingest_app.core.pipeline import run_stage3, start_run

    user = make_user()
    for company in demo.company_sources():
        add_company(session, user.id, name=company["name"], source=company["source"])
    session.commit()

    run = start_run(session, user.id)
    run_stage3(run.run_id)  # archive, then send 7 messages to the stack's queue
    finished = wait_for_run(get_engine(), run.run_id, stacks["aws"])

    with get_engine().connect() as conn:
        items = conn.execute(
            sa.text("SELECT url, state, error, attempts FROM ingestion_run_items WHERE run_id = :r"), {"r": run.run_id}
        ).all()
    assert finished["status"] == "completed", finished
    counters = ("total_jobs_found", "jobs_processed", "jobs_added", "jobs_failed", "jobs_archived")
    assert {k: finished[k] for k in counters} == {
        "total_jobs_found": 7,
        "jobs_processed": 7,
        "jobs_added": 6,
        "jobs_failed": 1,
        "jobs_archived": 0,
    }, (finished, items)
    with get_engine().connect() as conn:
        states = dict(
            conn.execute(
                sa.text("SELECT state, count(*) FROM ingestion_run_items WHERE run_id = :r GROUP BY state"),
                {"r": run.run_id},
            ).all()
        )
        active_jobs = conn.execute(
            sa.text("SELECT count(*) FROM jobs WHERE user_id = :u AND status = 'active'"), {"u": user.id}
        ).scalar_one()
    assert states == {"succeeded": 6, "failed": 1}
    assert active_jobs == 6
    depth = (
        stacks["aws"]
        .client("sqs")
        .get_queue_attributes(
            QueueUrl=stacks["queues"]["CrawlQueueUrl"],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
    )
    assert depth == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


def test_the_deployed_stale_detector_runs(stacks):
    response = (
        stacks["aws"]
        .client("lambda")
        .invoke(FunctionName=stacks["functions"]["StaleDetectorFunctionName"], Payload=b"{}")
    )
    payload = json.loads(response["Payload"].read())

    assert "FunctionError" not in response, payload
    assert payload["checked"] is True and payload["count"] == 0
