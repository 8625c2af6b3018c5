"""`python -m ingest_app ...`: operator commands.

Each command lives in `ingest_app/commands/<name>.py` with `register(subparsers)`; the
function it sets as `handler` receives the parsed args and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

COMMAND_MODULES = (
    "db",
    "users",
    "companies",
    "crawl",
    "ingest",
    "queue",
    "worker",
    "stale",
    "schedules",
    "dev",
    "demo",
)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ingest_app", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"ingest_app.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"ingest_app.commands.{name}":
                continue  # not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return int(handler(args) or 0)
