"""Worker subprocesses for tests: `python -m ingest_app worker` with the test environment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from ingest_app.core.settings import PROJECT_ROOT


def start_worker(
    *,
    env: dict[str, str] | None = None,
    concurrency: int = 2,
    wait_time: int = 1,
    stale_interval: float = 0,
    metrics_file: Path | None = None,
    log_path: Path | None = None,
) -> subprocess.Popen:
    """Start a worker process that inherits os.environ (+ `env`); stop it with `stop_worker`."""
    argv = [
        sys.executable,
        "-m",
        "ingest_app",
        "worker",
        "--concurrency",
        str(concurrency),
        "--wait-time",
        str(wait_time),
        "--stale-interval",
        str(stale_interval),
    ]
    if metrics_file is not None:
        argv += ["--metrics-file", str(metrics_file)]
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - the child keeps it
    try:
        return subprocess.Popen(
            argv,
            cwd=PROJECT_ROOT,
            env={**os.environ, "LOG_LEVEL": "WARNING", **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    finally:
        if log_path:
            out.close()


def stop_worker(proc: subprocess.Popen, timeout: float = 30.0) -> int:
    """SIGTERM (graceful: in-flight batches finish), SIGKILL if it does not exit in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def read_metrics(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())
