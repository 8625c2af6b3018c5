"""A local AWS for deployment tests: ministack on a free 127.0.0.1 port, started with an
environment that carries no database URL and no JWT secret, so a deployed function only gets what
its stack and its secret give it. Its Lambda service runs Python handlers with this machine's
interpreter, hence `LOCAL_PYTHON`, the version a Lambda build must target here."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

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
