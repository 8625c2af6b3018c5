"""`stale-check`: run the stale-run detector once and print what it did."""

from __future__ import annotations

from ingest_app.commands.output import print_json


def register(subparsers) -> None:
    parser = subparsers.add_parser("stale-check", help="complete, retry or fail runs whose heartbeat stopped")
    parser.set_defaults(handler=_run)


def _run(args) -> int:
    from ingest_app.core.pipeline import detect_stale_runs

    actions = detect_stale_runs()
    print_json({"count": len(actions), "actions": actions})
    return 0
