"""`schedules tick [--now ISO8601]`: start every scheduled run due at that instant (JSON)."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

from ingest_app.commands.output import print_json


def register(subparsers) -> None:
    parser = subparsers.add_parser("schedules", help="scheduled runs")
    commands = parser.add_subparsers(dest="schedules_command", metavar="ACTION", required=True)
    tick = commands.add_parser("tick", help="start every run due now (or at --now) and print them as JSON")
    tick.add_argument("--now", default=None, help="the instant to tick at, ISO 8601 (default: the current time)")
    tick.add_argument(
        "--no-stage3", action="store_true", help="only start the runs (stage 3 is left to the stale detector)"
    )
    tick.set_defaults(handler=_tick)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant; without an offset it is taken as UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00")) if len(text) <= 64 else None
    except ValueError:
        value = None
    if value is None:
        raise ValueError(f"--now {text[:64]!r} is not an ISO 8601 date-time, e.g. 2026-03-29T07:00:00Z")
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _tick(args) -> int:
    from ingest_app.core.pipeline.stage3 import run_stage3
    from ingest_app.core.schedules import tick

    try:
        now = parse_instant(args.now) if args.now else None
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2

    def _stage3(run_id: int) -> None:
        try:
            run_stage3(run_id)
        except Exception:
            pass  # logged and recorded on the run (it is failed with the reason)

    results = tick(now, launch=None if args.no_stage3 else _stage3)
    print_json([r.as_dict() for r in results])
    return 0
