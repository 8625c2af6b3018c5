"""`worker`: the local event-source-mapping poller + stale-run detector (stops on SIGTERM).

Local tooling: the poller lives in `devtools/poller.py` (on AWS the Lambda event source mapping
does its work), imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser("worker", help="consume the crawl queue locally (Lambda handler + stale detector)")
    parser.add_argument("--concurrency", type=int, default=None, help="batches in flight (WORKER_CONCURRENCY)")
    parser.add_argument(
        "--wait-time", type=int, default=None, help="long-poll seconds, 0-20 (WORKER_WAIT_TIME_SECONDS)"
    )
    parser.add_argument(
        "--stale-interval",
        type=float,
        default=None,
        help="seconds between stale-run checks, 0 disables (STALE_CHECK_INTERVAL_SECONDS)",
    )
    parser.add_argument("--metrics-file", type=Path, default=None, help="write counters and item timings here on exit")
    parser.set_defaults(handler=_run)


def _run(args) -> int:
    from devtools.poller import run_worker

    return run_worker(
        concurrency=args.concurrency,
        wait_time_seconds=args.wait_time,
        stale_interval_seconds=args.stale_interval,
        metrics_file=args.metrics_file,
    )
