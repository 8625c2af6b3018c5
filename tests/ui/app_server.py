"""The real app for browser tests, started the ways users start it, on free loopback ports:

- `AppServer`: `reflex run --env prod --single-port` (one port for the UI and the backend);
- `demo_stack`: that app with the queue emulator, a worker and the demo site around it;
- `MakeStack`: `make run` or `make dev` literally (the same command and mode a user types), with
  its own queue emulator, demo site and worker.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devtools.demo.site import DemoServer, DemoSite, start_demo_server
from devtools.emulator import free_port
from ingest_app.core.settings import PROJECT_ROOT
from tests.support.emulator import make_test_queue, start_test_emulator
from tests.support.settings import apply_env
from tests.support.worker import start_worker, stop_worker

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Pages a browser test opened: a failing test leaves a screenshot of each (tests/ui/conftest.py).
OPEN_PAGES: list = []


class AppServer:
    """One app process (its own session/process group); `stop()` ends the whole group."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        venv_bin = str(Path(sys.executable).parent)
        self.env = {
            **os.environ,
            **env,
            "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
            "REFLEX_USE_NPM": "1",
            "REFLEX_TELEMETRY_ENABLED": "false",
            "FRONTEND_PORT": str(self.port),
            "BACKEND_PORT": str(self.port),
            "API_URL": self.base_url,
        }
        self.log_path = log_path
        argv = [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port"]
        argv += ["--backend-port", str(self.port), "--backend-host", "127.0.0.1", "--loglevel", "info"]
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                argv,
                cwd=PROJECT_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 800.0) -> None:
        """Until the built frontend and the backend both answer (a first build installs the npm
        packages into .web/ and takes minutes; later builds reuse them)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited ({self.proc.returncode}); see {self.log_path}")
            if _answers(self.base_url + "/") and _answers(self.base_url + "/ping"):
                return
            time.sleep(1.0)
        raise TimeoutError(f"the app did not start within {timeout:.0f}s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


class MakeStack:
    """A `make run` / `make dev` command line, run by bash as written, in its own process group;
    `stop()` is Ctrl-C."""

    def __init__(self, command: str, env: dict[str, str], log_path: Path):
        self.command = command
        self.target = command.split()[1]
        self.frontend_port, self.backend_port = free_port(), free_port()
        self.demo_port, self.sqs_port = free_port(), free_port()
        self.base_url = f"http://127.0.0.1:{self.frontend_port}"
        self.api_url = f"http://127.0.0.1:{self.backend_port}"
        self.log_path = log_path
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("CRAWL_QUEUE", "SQS_", "PYTEST"))}
        self.env = {
            **inherited,
            **env,
            "FRONTEND_PORT": str(self.frontend_port),
            "BACKEND_PORT": str(self.backend_port),
            "DEMO_SITE_PORT": str(self.demo_port),
            "SQS_ENDPOINT_URL": f"http://127.0.0.1:{self.sqs_port}",
            "CRAWL_QUEUE_NAME": f"ui-make-{secrets.token_hex(4)}",
        }
        self.env.pop("API_URL", None)  # the command's own default, as for a user
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                ["bash", "-c", command],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 800.0) -> None:
        """Until the app's own page (not the "Building the app" notice) and the backend answer."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"`{self.command}` exited ({self.proc.returncode}); see {self.log_path}")
            if _app_answers(self.base_url + "/") and _answers(self.api_url + "/ping"):
                return
            time.sleep(1.0)
        raise TimeoutError(f"`{self.command}` did not start within {timeout:.0f}s; see {self.log_path}")

    def listening_addresses(self) -> set[str]:
        """`address:port` of every TCP socket in LISTEN state held by the command or any process
        it started (the process tree under `make`, read from /proc)."""
        inodes = set()
        for pid in process_tree(self.proc.pid):
            try:
                links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
            except OSError:
                continue
            inodes |= {link[8:-1] for link in links if link.startswith("socket:[")}
        return {f"{addr}:{port}" for addr, port, inode in tcp_listeners() if inode in inodes}

    def stop(self) -> None:
        """SIGINT to the group (what Ctrl-C sends); `dev` then stops everything it started."""
        if self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        ports = {self.frontend_port, self.backend_port, self.demo_port, self.sqs_port}
        deadline = time.monotonic() + 30
        while any(port in ports for _addr, port, _inode in tcp_listeners()) and time.monotonic() < deadline:
            time.sleep(0.5)


def process_tree(root: int) -> set[int]:
    """`root` and all its descendants (by parent pid, so also those in sessions of their own)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += children.get(pid, [])
    return found


def tcp_listeners() -> list[tuple[str, int, str]]:
    """(address, port, socket inode) of the TCP sockets in LISTEN state, IPv4 and IPv6."""
    found = []
    for name, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] != "0A":  # LISTEN
                continue
            hex_addr, hex_port = fields[1].split(":")
            raw = bytes.fromhex(hex_addr)
            # /proc prints each 32-bit word in host (little-endian) order.
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.append((socket.inet_ntop(family, raw), int(hex_port, 16), fields[9]))
    return found


def _app_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200 and not response.headers.get("X-App-Building")
    except OSError:
        return False


@dataclass
class Stack:
    app: AppServer
    demo: DemoServer
    site: DemoSite


@contextmanager
def demo_stack(logs: Path, *, worker_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """The single-port app with its own queue emulator, worker (plus `worker_env`) and demo site."""
    site = DemoSite.default(rotate=False)
    demo = start_demo_server(site)
    emulator = start_test_emulator()
    queue, previous_env = make_test_queue(emulator)
    env = {**demo.settings_env(), **queue.env, "DEMO_SITE_URL": demo.base_url}
    worker = start_worker(env={**env, **(worker_env or {})}, concurrency=2, log_path=logs / "worker.log")
    app = AppServer(env, logs / "app.log")
    try:
        app.wait_ready()
        yield Stack(app=app, demo=demo, site=site)
    finally:
        app.stop()
        demo.stop()  # first: fetches still waiting on a slow page end at once
        stop_worker(worker)
        apply_env(previous_env)
        emulator.stop()
