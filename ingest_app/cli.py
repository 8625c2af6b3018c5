"""`python -m ingest_app ...`: operator commands.

Each command lives in `ingest_app/commands/<name>.py` with `register(subparsers)`; the
function it sets as `handler` receives the parsed args and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

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


def build_parser(commands: tuple[str, ...] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ingest_app", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in commands:
        try:
            module = importlib.import_module(f"ingest_app.commands.{name}")
        except ModuleNotFoundError as exc:
            # A listed command whose module (or one it imports) is missing is a broken install:
            # say which module, never drop the command silently.
            raise SystemExit(f"error: command {name!r} cannot load: module {exc.name!r} not found") from exc
        module.register(subparsers)
    return parser


EXIT_UNAVAILABLE = 3  # the database or the queue cannot be reached


def _debug_logging() -> bool:
    """LOG_LEVEL=DEBUG (through Settings); a configuration that cannot be read is not DEBUG, since
    the record being logged may be about exactly that."""
    from ingest_app.core.settings import get_settings

    try:
        return get_settings().log_level.upper() == "DEBUG"
    except Exception:
        return False


class _OneLineFormatter(logging.Formatter):
    """Log records as one line each: an exception's first line, not its traceback (LOG_LEVEL=DEBUG
    keeps tracebacks)."""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and record.exc_info[1] is not None and not _debug_logging():
            from ingest_app.core.db import one_line

            text = f"{record.getMessage()}: {one_line(record.exc_info[1])}"
            record = logging.makeLogRecord(
                {**record.__dict__, "msg": text, "args": (), "exc_info": None, "exc_text": None}
            )
        return super().format(record)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record is emitted."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _configure_logging() -> None:
    """Warnings and errors on stderr, one line each (the worker configures its own logging)."""
    root = logging.getLogger()
    if any(isinstance(h, _StderrHandler) for h in root.handlers):
        return
    handler = _StderrHandler()
    handler.setFormatter(_OneLineFormatter("%(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.WARNING)
    root.addHandler(handler)


def unavailable_message(exc: BaseException) -> str | None:
    """One line for an error that means the database or the queue is unreachable, else None."""
    from ingest_app.core.db import is_connection_error, one_line
    from ingest_app.core.queue import QueueError

    if isinstance(exc, QueueError):
        return f"error: {one_line(exc)}"
    if is_connection_error(exc):
        from sqlalchemy.engine import make_url

        from ingest_app.core.settings import get_settings

        try:
            url = make_url(get_settings().database_url)
            target = f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"
        except Exception:
            target = "the configured database"
        return f"error: the database is unreachable ({target}): {one_line(exc)}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    if args.command != "worker":
        _configure_logging()
    try:
        return int(handler(args) or 0)
    except Exception as exc:
        message = unavailable_message(exc)
        if message is None:
            raise
        sys.stderr.write(message + "\n")
        return EXIT_UNAVAILABLE
