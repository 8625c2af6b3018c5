"""`dev`: everything `make run` needs, in one foreground process.

Starts the local SQS emulator and queues, the demo site, the worker (local event-source-mapping
poller + stale detector) and `reflex run`; Ctrl-C (or SIGTERM) stops every process it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field


@dataclass
class Supervisor:
    env: dict[str, str]
    children: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        print(f"[dev] starting {name}: {' '.join(argv)}", flush=True)
        proc = subprocess.Popen(argv, env=self.env, start_new_session=True)
        self.children.append((name, proc))
        return proc

    def check(self) -> str | None:
        for name, proc in self.children:
            if proc.poll() is not None:
                return f"{name} exited with code {proc.returncode}"
        return None

    def stop(self, timeout: float = 10.0) -> None:
        for name, proc in reversed(self.children):
            if proc.poll() is None:
                print(f"[dev] stopping {name}", flush=True)
                _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for _name, proc in self.children:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def register(subparsers) -> None:
    parser = subparsers.add_parser("dev", help="run the app with its queue, worker and demo site (make run)")
    parser.add_argument("--frontend-port", type=int, default=int(os.environ.get("FRONTEND_PORT", "3000")))
    parser.add_argument("--backend-port", type=int, default=int(os.environ.get("BACKEND_PORT", "8000")))
    parser.add_argument("--demo-port", type=int, default=int(os.environ.get("DEMO_SITE_PORT", "8700")))
    parser.add_argument(
        "--no-demo",
        action="store_true",
        default=os.environ.get("DEMO", "1") == "0",
        help="use the real ATS endpoints instead of the local demo site (DEMO=0)",
    )
    parser.set_defaults(handler=_run)


def _run(args) -> int:
    python = sys.executable
    env = dict(os.environ)
    env.setdefault("REFLEX_USE_NPM", "1")
    env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    env["FRONTEND_PORT"] = str(args.frontend_port)
    env["BACKEND_PORT"] = str(args.backend_port)
    env["PATH"] = os.path.dirname(python) + os.pathsep + env.get("PATH", "")

    sup = Supervisor(env=env)
    stopping = False

    def _on_signal(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    queue_started = False
    try:
        rc = subprocess.call([python, "-m", "ingest_app", "queue", "up"], env=env)
        if rc != 0:
            print("[dev] could not start the local queue; see the message above", file=sys.stderr)
            return rc
        queue_started = True

        if not args.no_demo:
            demo_url = f"http://127.0.0.1:{args.demo_port}"
            sup.start("demo site", [python, "-m", "ingest_app", "demo-site", "--port", str(args.demo_port)])
            env.update(
                {
                    "DEMO_SITE_URL": demo_url,
                    "GREENHOUSE_API_BASE": f"{demo_url}/greenhouse",
                    "LEVER_API_BASE": f"{demo_url}/lever",
                    "ASHBY_API_BASE": f"{demo_url}/ashby",
                    "SMARTRECRUITERS_API_BASE": f"{demo_url}/smartrecruiters-api",
                    "WORKABLE_API_BASE": f"{demo_url}/workable-api",
                    "RIPPLING_API_BASE": f"{demo_url}/rippling-api",
                    "CRAWLER_ALLOW_PRIVATE_HOSTS": "1",
                }
            )
        sup.start("worker", [python, "-m", "ingest_app", "worker"])
        sup.start(
            "app",
            [
                python,
                "-m",
                "reflex",
                "run",
                "--frontend-port",
                str(args.frontend_port),
                "--backend-port",
                str(args.backend_port),
                "--backend-host",
                "127.0.0.1",
            ],
        )
        print(
            f"[dev] app: http://localhost:{args.frontend_port}  api: http://localhost:{args.backend_port}/api/docs"
            "  (Ctrl-C stops everything)",
            flush=True,
        )
        while not stopping:
            problem = sup.check()
            if problem:
                print(f"[dev] {problem}; stopping", file=sys.stderr, flush=True)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sup.stop()
        if queue_started:
            subprocess.call([python, "-m", "ingest_app", "queue", "down"], env=env)
        print("[dev] stopped", flush=True)
