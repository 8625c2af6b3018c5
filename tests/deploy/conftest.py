"""Fixtures for the deployment tests: the Lambda zip (built once per session) and a local AWS.

`aws` is one ministack per session on a free 127.0.0.1 port, started with an environment that
carries no database URL and no JWT secret, so a deployed function only gets what its stack and
its secret give it. Its Lambda service runs Python handlers from the zip with this machine's
interpreter, hence a build for this Python version.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from devtools.emulator import free_port, stop_process, wait_until_ready

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
LOCAL_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
# Never handed to the emulator (nor, through it, to the functions it runs).
WITHHELD_ENV = ("DATABASE_URL", "JWT_SECRET", "APP_ENV", "SQS_ENDPOINT_URL", "CRAWL_QUEUE_URL", "CRAWL_QUEUE_NAME")


@dataclass
class LambdaBuild:
    zip_path: Path
    build_dir: Path
    report: str


@dataclass
class LocalAws:
    endpoint_url: str
    process: subprocess.Popen
    log_path: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return boto3.session.Session().client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def lambda_build(tmp_path_factory: pytest.TempPathFactory) -> LambdaBuild:
    """`make lambda-zip`'s manylinux build, for the Python of this machine (python3.11): the
    emulator runs handlers with this interpreter, and these wheels load here as on AWS."""
    base = tmp_path_factory.mktemp("lambda-build")
    zip_path, build_dir = base / "lambda-worker.zip", base / "staging"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_lambda_zip.py"), "--python-version", platform.python_version(),
         "--output", str(zip_path), "--build-dir", str(build_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return LambdaBuild(zip_path=zip_path, build_dir=build_dir, report=result.stdout)


def start_local_aws(log_path: Path, extra_env: dict[str, str] | None = None) -> LocalAws:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in WITHHELD_ENV}
    env.update(extra_env or {})
    env.update(
        BIND_HOST="127.0.0.1",
        GATEWAY_PORT=str(port),
        MINISTACK_HOST="127.0.0.1",  # queue URLs it hands out
        LOG_LEVEL="INFO",
        LAMBDA_EXECUTOR="local",
    )
    with open(log_path, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ministack"],
            env=env, cwd="/", stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    aws = LocalAws(f"http://127.0.0.1:{port}", process, log_path, dict(extra_env or {}))
    try:
        wait_until_ready(aws.endpoint_url, timeout=30, process=process)
    except Exception:
        stop_process(process.pid, process=process)
        raise
    return aws


@pytest.fixture(scope="session")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAws]:
    handle = start_local_aws(tmp_path_factory.mktemp("ministack") / "ministack.log")
    try:
        yield handle
    finally:
        stop_process(handle.process.pid, process=handle.process)
