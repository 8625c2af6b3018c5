"""`demo-site [--port P]`: serve the demo job site (fictional companies) on 127.0.0.1.

Local tooling: the site lives in `devtools/demo/`, imported when the command runs.
"""

from __future__ import annotations

import json
import signal
import sys
import threading


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo-site", help="serve the demo job site on 127.0.0.1 until interrupted")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to delay every response")
    parser.add_argument("--no-rotate", action="store_true", help="keep listings identical between runs")
    parser.set_defaults(handler=_serve)


def _serve(args) -> int:
    from devtools.demo.site import DemoSite, start_demo_server

    site = DemoSite.default(rotate=not args.no_rotate)
    site.set_latency(args.latency)
    try:
        server = start_demo_server(site, port=args.port)
    except OSError as exc:
        sys.stderr.write(f"error: cannot listen on 127.0.0.1:{args.port}: {exc}\n")
        return 1
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    info = {"base_url": server.base_url, "env": server.settings_env(), "companies": server.company_sources()}
    sys.stdout.write(json.dumps(info, indent=2) + "\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0
