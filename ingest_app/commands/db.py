"""`db upgrade`: bring the database schema to the newest migration."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("db", help="database schema")
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = sub.add_parser("upgrade", help="apply migrations (alembic upgrade head)")
    upgrade.add_argument("--revision", default="head")
    upgrade.set_defaults(handler=_upgrade)


def redacted_url(url: str) -> str:
    """The database URL with its password replaced by ***."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even a URL: say nothing of it
        return "the configured DATABASE_URL"


def _password(url: str) -> str | None:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).password or None
    except Exception:
        return None


def _upgrade(args) -> int:
    from sqlalchemy.exc import OperationalError

    from ingest_app.core.settings import get_settings
    from ingest_app.migrations import upgrade

    try:
        upgrade(revision=args.revision)
    except OperationalError as exc:
        where = redacted_url(get_settings().database_url)
        reason = " ".join(str(exc.orig).split()).replace(_password(get_settings().database_url) or "\x00", "***")
        sys.stderr.write(f"error: cannot reach the database ({where}): {reason}\n")
        return 1
    print(f"database at revision {args.revision}")
    return 0
