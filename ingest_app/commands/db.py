"""`db upgrade`: bring the database schema to the newest migration."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("db", help="database schema")
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = sub.add_parser("upgrade", help="apply migrations (alembic upgrade head)")
    upgrade.add_argument("--revision", default="head")
    upgrade.set_defaults(handler=_upgrade)


def _upgrade(args) -> int:
    from sqlalchemy.exc import OperationalError

    from ingest_app.core.migrations import upgrade
    from ingest_app.core.settings import get_settings

    try:
        upgrade(revision=args.revision)
    except OperationalError as exc:
        sys.stderr.write(f"error: cannot reach the database ({get_settings().database_url}): {exc.orig}\n")
        return 1
    print(f"database at revision {args.revision}")
    return 0
