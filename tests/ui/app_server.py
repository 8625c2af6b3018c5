"""The real app for browser tests: `reflex run --env prod --single-port` on a free loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ingest_app.core.emulator import free_port
from ingest_app.core.settings import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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
