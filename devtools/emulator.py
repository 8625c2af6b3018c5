"""The local SQS-compatible emulator (`ministack`) for development and tests.

`start_emulator(port)` runs it bound to 127.0.0.1 and waits until it answers;
`queue_up()` / `queue_down()` back `python -m ingest_app queue up|down` and remember the
process they started in a pid file under `settings.data_dir`.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ingest_app.core.settings import get_settings

HEALTH_PATH = "/_ministack/health"
PID_FILE_NAME = "ministack.pid"


class EmulatorError(RuntimeError):
    pass


@dataclass
class EmulatorHandle:
    pid: int
    port: int
    host: str = "127.0.0.1"
    log_path: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        stop_process(self.pid, timeout=timeout, process=self.process)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def is_loopback_endpoint(url: str | None) -> bool:
    if not url:
        return False
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint_answers(url: str, timeout: float = 1.0) -> bool:
    """True when something answers HTTP at `url` (any status)."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + HEALTH_PATH, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def wait_until_ready(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise EmulatorError(f"the emulator exited with code {process.returncode} before answering at {url}")
        if endpoint_answers(url, timeout=0.5):
            return
        time.sleep(0.1)
    raise EmulatorError(f"the emulator did not answer at {url} within {timeout:.0f} s")


def start_emulator(
    port: int | None = None,
    *,
    host: str = "127.0.0.1",
    log_path: Path | None = None,
    services: str | None = None,
    timeout: float = 30.0,
) -> EmulatorHandle:
    """Start ministack on `host:port` (a free port if None) in its own session; wait until it answers."""
    port = port or free_port(host)
    env = dict(os.environ)
    env.update({"BIND_HOST": host, "GATEWAY_PORT": str(port), "LOG_LEVEL": env.get("MINISTACK_LOG_LEVEL", "WARNING")})
    if services:
        env["SERVICES"] = services
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - the child keeps it
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "ministack"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        if log_path:
            out.close()
    handle = EmulatorHandle(pid=process.pid, port=port, host=host, log_path=log_path, process=process)
    try:
        wait_until_ready(handle.endpoint_url, timeout=timeout, process=process)
    except EmulatorError:
        handle.stop()
        raise
    return handle


def stop_process(pid: int, *, timeout: float = 10.0, process: subprocess.Popen | None = None) -> bool:
    """SIGTERM `pid`, SIGKILL after `timeout`; True if it was running."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None:
            if process.poll() is not None:
                return True
        elif not _alive(pid):
            return True
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if process is not None:
        process.wait()
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child counts as gone
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return True


def _pid_file() -> Path:
    return get_settings().data_dir / PID_FILE_NAME


def _is_ministack(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return _alive(pid)
    return b"ministack" in cmdline


def queue_up(*, timeout: float = 30.0) -> dict[str, object]:
    """Make sure the configured SQS endpoint answers (starting the emulator if it is ours to start)
    and that the crawl queue and its DLQ exist. Returns what it did."""
    from ingest_app.core.queue import crawl_queue_url, dlq_name, ensure_queues

    settings = get_settings()
    endpoint = settings.sqs_endpoint_url
    if not endpoint:  # real AWS: the queues belong to cloudformation/sqs-queues.yml
        return {"queue_url": crawl_queue_url(settings), "endpoint": "aws", "emulator_started": False}
    started = False
    pid: int | None = None
    if not endpoint_answers(endpoint):
        if not is_loopback_endpoint(endpoint):
            raise EmulatorError(f"nothing answers at SQS_ENDPOINT_URL={endpoint} and it is not a loopback address")
        parts = urlsplit(endpoint)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = "127.0.0.1" if parts.hostname == "localhost" else parts.hostname or "127.0.0.1"
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        handle = start_emulator(port, host=host, log_path=settings.data_dir / "ministack.log", timeout=timeout)
        _pid_file().write_text(f"{handle.pid}\n")
        handle.process = None  # detached: it outlives this command
        started, pid = True, handle.pid
    url = ensure_queues()
    return {
        "queue_url": url,
        "dlq_name": dlq_name(settings.crawl_queue_name),
        "endpoint": endpoint,
        "emulator_started": started,
        "emulator_pid": pid,
    }


def queue_down(timeout: float = 10.0) -> dict[str, object]:
    """Stop the emulator `queue_up` started (and nothing else)."""
    path = _pid_file()
    if not path.exists():
        return {"stopped": False, "reason": "no emulator was started by `queue up`"}
    try:
        pid = int(path.read_text().strip())
    except ValueError:
        path.unlink(missing_ok=True)
        return {"stopped": False, "reason": "unreadable pid file removed"}
    stopped = _alive(pid) and _is_ministack(pid) and stop_process(pid, timeout=timeout)
    path.unlink(missing_ok=True)
    return {"stopped": bool(stopped), "pid": pid}
