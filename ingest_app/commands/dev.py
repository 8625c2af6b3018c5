"""`dev [--reload]`: the app with its queue, worker and demo site, for `make run` / `make dev`.

Local tooling only: the supervisor lives in `devtools/dev.py`, imported when the command runs.
"""

from __future__ import annotations


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "dev", help="run the app with its queue, worker and demo site (make run; --reload: make dev)"
    )
    parser.add_argument("--frontend-port", type=int, default=None, help="default: FRONTEND_PORT, else 3000")
    parser.add_argument("--backend-port", type=int, default=None, help="default: BACKEND_PORT, else 8000")
    parser.add_argument("--demo-port", type=int, default=None, help="default: DEMO_SITE_PORT, else 8700")
    parser.add_argument(
        "--demo-latency",
        type=float,
        default=None,
        help="seconds the demo site waits before every answer (DEMO_SITE_LATENCY)",
    )
    parser.add_argument(
        "--no-demo",
        action="store_const",
        const=False,
        dest="demo",
        default=None,
        help="use the real ATS endpoints instead of the local demo site (DEMO=0)",
    )
    parser.add_argument(
        "--reload",
        action="store_true",
        help="development mode: `reflex run` with hot reload (make dev) instead of the production build",
    )
    parser.set_defaults(handler=_run)


def _run(args) -> int:
    from devtools.dev import run

    return run(
        frontend_port=args.frontend_port,
        backend_port=args.backend_port,
        demo_port=args.demo_port,
        demo_latency=args.demo_latency,
        demo=args.demo,
        reload=args.reload,
    )
