"""The `make run` supervisor: everything the app needs locally, in one foreground process.

Starts the local SQS emulator and queues, the demo site, the worker (local event-source-mapping
poller + stale detector) and the app; Ctrl-C (or SIGTERM) stops every process it started.

`make run` (`dev`) runs the app the way it is deployed (docs/DEPLOY.md): the production frontend,
built once at start (`reflex export --frontend-only --env prod`) and served as static files, in
front of `reflex run --env prod --backend-only`. While it builds, the app's address shows a
"Building the app" page. `make dev` (`dev --reload`) runs `reflex run` in development mode instead:
hot reload, React StrictMode, slower pages.

Ports, demo-site latency and whether to start the demo site come from Settings (FRONTEND_PORT,
BACKEND_PORT, DEMO_SITE_PORT, DEMO_SITE_LATENCY, DEMO) unless the command line gives them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from devtools.frontend_server import FrontendServer
from ingest_app.core.settings import get_settings


@dataclass(frozen=True)
class _Options:
    frontend_port: int
    backend_port: int
    demo_port: int
    demo_latency: float
    no_demo: bool
    reload: bool


@dataclass
class Supervisor:
    env: dict[str, str]
    children: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        print(f"[dev] starting {name}: {' '.join(argv)}", flush=True)
        proc = subprocess.Popen(argv, env=env or self.env, start_new_session=True)
        self.children.append((name, proc))
        return proc

    def check(self) -> str | None:
        for name, proc in self.children:
            if proc.poll() is not None:
                return f"{name} exited with code {proc.returncode}"
        return None

    def finished(self, proc: subprocess.Popen) -> None:
        """A one-shot child (the build) ended: it is no longer supervised."""
        self.children = [(name, p) for name, p in self.children if p is not proc]

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


def _child_env(python: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("REFLEX_USE_NPM", "1")
    env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    # Ports go to reflex as arguments; left in the environment they would reach rxconfig.py and
    # make `--backend-only` refuse to start ("Cannot specify --frontend-port ...").
    for name in ("FRONTEND_PORT", "BACKEND_PORT", "REFLEX_FRONTEND_PORT", "REFLEX_BACKEND_PORT"):
        env.pop(name, None)
    env["PATH"] = os.path.dirname(python) + os.pathsep + env.get("PATH", "")
    return env


def _options(frontend_port, backend_port, demo_port, demo_latency, demo, reload) -> _Options:
    """The command line's values, Settings' where the command line gives none."""
    settings = get_settings()
    return _Options(
        frontend_port=settings.frontend_port if frontend_port is None else frontend_port,
        backend_port=settings.backend_port if backend_port is None else backend_port,
        demo_port=settings.demo_site_port if demo_port is None else demo_port,
        demo_latency=settings.demo_site_latency if demo_latency is None else demo_latency,
        no_demo=not (settings.demo if demo is None else demo),
        reload=reload,
    )


@dataclass
class _Stop:
    """Set by SIGINT/SIGTERM; every wait loop checks it."""

    requested: bool = False

    def install(self) -> None:
        def _on_signal(signum, _frame):
            self.requested = True

        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGTERM, _on_signal)


def _start_demo(sup: Supervisor, env: dict[str, str], args: _Options, python: str) -> None:
    """The demo site, and every ATS endpoint of the children pointed at it."""
    demo_url = f"http://127.0.0.1:{args.demo_port}"
    demo_argv = [python, "-m", "ingest_app", "demo-site", "--port", str(args.demo_port)]
    if args.demo_latency > 0:
        demo_argv += ["--latency", str(args.demo_latency)]
    sup.start("demo site", demo_argv)
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


def _start_app(
    sup: Supervisor, env: dict[str, str], args: _Options, python: str, frontend: FrontendServer | None, stop: _Stop
) -> int | None:
    """The app: `reflex run` (development), or the prod backend plus the one-off frontend build
    that `frontend` serves when it is done. An exit code when the app cannot come up."""
    reflex = [python, "-m", "reflex"]
    backend = ["--backend-port", str(args.backend_port), "--backend-host", "127.0.0.1"]
    if args.reload:
        sup.start("app", [*reflex, "run", "--frontend-port", str(args.frontend_port), *backend])
        return None
    sup.start("backend", [*reflex, "run", "--env", "prod", "--backend-only", *backend])
    # `localhost` is the page's own host name to the frontend (its websocket and the session
    # cookie then go to one host, whether the browser opened localhost or 127.0.0.1).
    build_env = {**env, "API_URL": env.get("API_URL") or f"http://localhost:{args.backend_port}"}
    build = sup.start(
        "frontend build", [*reflex, "export", "--frontend-only", "--no-zip", "--env", "prod"], env=build_env
    )
    while build.poll() is None and not stop.requested:
        problem = sup.check()
        if problem and "frontend build" not in problem:
            print(f"[dev] {problem}; stopping", file=sys.stderr, flush=True)
            return 1
        time.sleep(0.5)
    if stop.requested:
        return 0
    sup.finished(build)
    if build.returncode != 0:
        frontend.failed(f"The frontend build exited with code {build.returncode}.")
        print("[dev] the frontend build failed; see the messages above", file=sys.stderr, flush=True)
        return 1
    frontend.ready()
    return None


def _supervise(sup: Supervisor, stop: _Stop) -> int:
    """Until Ctrl-C (0) or a child exits (1)."""
    while not stop.requested:
        problem = sup.check()
        if problem:
            print(f"[dev] {problem}; stopping", file=sys.stderr, flush=True)
            return 1
        time.sleep(0.5)
    return 0


def run(
    *,
    frontend_port: int | None = None,
    backend_port: int | None = None,
    demo_port: int | None = None,
    demo_latency: float | None = None,
    demo: bool | None = None,
    reload: bool = False,
) -> int:
    """`python -m ingest_app dev`: start everything, supervise it, stop it all on Ctrl-C."""
    args = _options(frontend_port, backend_port, demo_port, demo_latency, demo, reload)
    python = sys.executable
    env = _child_env(python)
    # The ports leave the environment (above), so rxconfig.py would grant CORS to port 3000 only:
    # the backend and the websocket accept this command's frontend, under either loopback name.
    frontend_origins = f"http://localhost:{args.frontend_port},http://127.0.0.1:{args.frontend_port}"
    env.setdefault("FRONTEND_ORIGIN", frontend_origins)
    sup = Supervisor(env=env)
    stop = _Stop()
    stop.install()

    frontend: FrontendServer | None = None
    queue_started = False
    try:
        if not args.reload:
            # First, so the address answers at once: "Building the app" until the build is there.
            frontend = _start_frontend_server(args.frontend_port)
            if frontend is None:
                return 1
        rc = subprocess.call([python, "-m", "ingest_app", "queue", "up"], env=env)
        if rc != 0:
            print("[dev] could not start the local queue; see the message above", file=sys.stderr)
            return rc
        queue_started = True
        if not args.no_demo:
            _start_demo(sup, env, args, python)
        sup.start("worker", [python, "-m", "ingest_app", "worker"])
        rc = _start_app(sup, env, args, python, frontend, stop)
        if rc is not None:
            return rc
        print(
            f"[dev] app: http://localhost:{args.frontend_port}  api: http://localhost:{args.backend_port}/api/docs"
            "  (Ctrl-C stops everything)",
            flush=True,
        )
        return _supervise(sup, stop)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sup.stop()
        if frontend is not None:
            frontend.stop()
        if queue_started:
            subprocess.call([python, "-m", "ingest_app", "queue", "down"], env=env)
        print("[dev] stopped", flush=True)


def _start_frontend_server(port: int) -> FrontendServer | None:
    from reflex import constants
    from reflex.utils.prerequisites import get_web_dir

    root = Path(get_web_dir()) / constants.Dirs.STATIC
    try:
        server = FrontendServer(root, "127.0.0.1", port).start()
    except OSError as exc:
        print(f"[dev] cannot listen on 127.0.0.1:{port}: {exc} (set FRONTEND_PORT)", file=sys.stderr)
        return None
    print(f"[dev] http://localhost:{port} shows the build's progress, then the app", flush=True)
    return server
