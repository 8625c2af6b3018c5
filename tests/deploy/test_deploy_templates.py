"""The CloudFormation templates lint clean and carry the settings the architecture asks for."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
QUEUES = ROOT / "cloudformation" / "sqs-queues.yml"
FUNCTIONS = ROOT / "cloudformation" / "lambda-functions.yml"
CFN_LINT = Path(sys.executable).with_name("cfn-lint")


def load(path: Path) -> dict[str, Any]:
    template, errors = decode(str(path))
    assert not errors, errors
    return template


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in template["Resources"].items() if r["Type"] == kind}


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    """Every policy statement of a role, both branches of a Fn::If included."""
    found: list[dict[str, Any]] = []
    for policy in role["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            branches = statement["Fn::If"][1:] if "Fn::If" in statement else [statement]
            found += [b for b in branches if isinstance(b, dict) and "Effect" in b]
    return found


def test_cfn_lint_passes_on_both_templates():
    result = subprocess.run([str(CFN_LINT), str(QUEUES), str(FUNCTIONS)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_queue_and_dead_letter_queue_settings():
    template = load(QUEUES)
    queues = resources(template, "AWS::SQS::Queue")
    queue, dlq = queues["CrawlQueue"], queues["CrawlDeadLetterQueue"]

    assert queue["VisibilityTimeout"] == 6 * 300
    assert queue["MessageRetentionPeriod"] == 24 * 3600
    assert queue["ReceiveMessageWaitTimeSeconds"] == 20
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["CrawlDeadLetterQueue", "Arn"]}
    assert queue["RedrivePolicy"]["maxReceiveCount"] == {"Ref": "MaxReceiveCount"}
    assert template["Parameters"]["MaxReceiveCount"]["Default"] == 5
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
    exports = {name: out["Export"]["Name"]["Fn::Sub"] for name, out in template["Outputs"].items()}
    assert exports == {
        name: "${AWS::StackName}-" + name
        for name in ("CrawlQueueUrl", "CrawlQueueArn", "CrawlDeadLetterQueueUrl", "CrawlDeadLetterQueueArn")
    }


def test_crawl_worker_function_and_event_source_mapping():
    template = load(FUNCTIONS)
    functions = resources(template, "AWS::Lambda::Function")
    worker = functions["CrawlWorkerFunction"]
    mapping = resources(template, "AWS::Lambda::EventSourceMapping")["CrawlQueueEventSourceMapping"]
    concurrency = template["Parameters"]["MaximumConcurrency"]

    assert (worker["MemorySize"], worker["Timeout"]) == (512, 300)
    assert set(template["Parameters"]["Runtime"]["AllowedValues"]) == {"python3.12", "python3.11"}
    assert worker["Code"] == {"S3Bucket": {"Ref": "CodeS3Bucket"}, "S3Key": {"Ref": "CodeS3Key"}}
    assert mapping["BatchSize"] == 10
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "MaximumConcurrency"}}
    assert (concurrency["MinValue"], concurrency["MaxValue"]) == (2, 1000)
    env = worker["Environment"]["Variables"]
    assert env["APP_ENV"] == "worker"
    assert "DATABASE_URL" not in env and "JWT_SECRET" not in env


def test_stale_detector_runs_every_five_minutes():
    template = load(FUNCTIONS)
    rule = resources(template, "AWS::Events::Rule")["StaleDetectorSchedule"]
    permission = resources(template, "AWS::Lambda::Permission")["StaleDetectorInvokePermission"]

    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["StaleDetectorFunction", "Arn"]}
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": ["StaleDetectorSchedule", "Arn"]}


@pytest.mark.parametrize("logical_id", ["CrawlWorkerFunction", "StaleDetectorFunction", "TrackingTickFunction"])
def test_handlers_named_in_the_template_exist(logical_id):
    handler = resources(load(FUNCTIONS), "AWS::Lambda::Function")[logical_id]["Handler"]
    module, name = handler.rsplit(".", 1)

    assert callable(getattr(importlib.import_module(module), name))


def test_roles_are_least_privilege():
    roles = resources(load(FUNCTIONS), "AWS::IAM::Role")
    worker, detector = statements(roles["CrawlWorkerRole"]), statements(roles["StaleDetectorRole"])
    queue_arn = {"Fn::ImportValue": {"Fn::Sub": "${QueueStackName}-CrawlQueueArn"}}

    for statement in worker + detector:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), statement
        assert statement["Resource"] != "*", statement
    worker_sqs = {a for s in worker if s["Resource"] == queue_arn for a in s["Action"]}
    assert worker_sqs == {
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility",
        "sqs:SendMessage",  # stage 3 ends in the worker: it enqueues the run's item messages
    }  # fmt: skip
    assert {a for s in detector if s["Resource"] == queue_arn for a in s["Action"]} == {
        "sqs:SendMessage", "sqs:GetQueueAttributes"
    }  # fmt: skip
    secret_reads = [s for s in worker if s["Action"] == "secretsmanager:GetSecretValue"]
    assert [s["Resource"] for s in secret_reads] == [{"Ref": "DatabaseUrlSecretArn"}]
    # The VPC policy only when subnets are given.
    vpc = roles["CrawlWorkerRole"]["ManagedPolicyArns"]["Fn::If"]
    assert vpc[0] == "HasVpc" and vpc[2] == {"Ref": "AWS::NoValue"}


def test_tracking_tick_runs_every_minute_with_least_privilege():
    template = load(FUNCTIONS)
    rule = resources(template, "AWS::Events::Rule")["TrackingTickSchedule"]
    permission = resources(template, "AWS::Lambda::Permission")["TrackingTickInvokePermission"]
    function = resources(template, "AWS::Lambda::Function")["TrackingTickFunction"]
    assert rule["ScheduleExpression"] == "rate(1 minute)" and rule["State"] == "ENABLED"
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["TrackingTickFunction", "Arn"]}
    assert permission["SourceArn"] == {"Fn::GetAtt": ["TrackingTickSchedule", "Arn"]}
    assert function["Handler"] == "lambda_worker.schedule_lambda.handler" and function["Timeout"] == 300
    assert function["Environment"]["Variables"]["CHANNEL_SECRET_KEY"] == {"Ref": "ChannelSecretKey"}
    assert template["Parameters"]["ChannelSecretKey"]["NoEcho"] is True
    tick = statements(resources(template, "AWS::IAM::Role")["TrackingTickRole"])
    queue_arn = {"Fn::ImportValue": {"Fn::Sub": "${QueueStackName}-CrawlQueueArn"}}
    for statement in tick:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions) and statement["Resource"] != "*", statement
    assert {a for s in tick if s["Resource"] == queue_arn for a in s["Action"]} == {
        "sqs:SendMessage", "sqs:GetQueueAttributes"
    }  # fmt: skip
