"""Worker subprocesses for tests: `python -m ingest_app worker` with the test environment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
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
    wait: bool = True,
    timeout: float = 60.0,
) -> subprocess.Popen:
    """Start a worker process that inherits os.environ (+ `env`); with `wait`, return once it polls.
    Stop it with `stop_worker`."""
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
    own_log = log_path is None
    if log_path is None:
        fd, name = tempfile.mkstemp(prefix="worker-", suffix=".log")
        os.close(fd)
        log_path = Path(name)
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(
            argv,
            cwd=PROJECT_ROOT,
            env={**os.environ, "LOG_LEVEL": "INFO", **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        if wait:
            wait_until_polling(proc, log_path, timeout)
    finally:
        if own_log:
            log_path.unlink(missing_ok=True)  # the worker keeps writing to its open file
    return proc


def wait_until_polling(proc: subprocess.Popen, log_path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while b"polling" not in log_path.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_worker(proc)
            raise RuntimeError(f"the worker did not start polling:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.05)


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
