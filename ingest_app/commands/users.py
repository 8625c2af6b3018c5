"""`user create --email E --password P`."""

from __future__ import annotations

import sys

from ingest_app.commands.output import print_json


def register(subparsers) -> None:
    parser = subparsers.add_parser("user", help="user accounts")
    sub = parser.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    create = sub.add_parser("create", help="create an account")
    create.add_argument("--email", required=True)
    create.add_argument("--password", required=True)
    create.set_defaults(handler=_create)


def _create(args) -> int:
    from ingest_app.accounts.users import UserError, create_user
    from ingest_app.core.db import session_scope

    try:
        with session_scope() as session:
            user = create_user(session, email=args.email, password=args.password)
            result = {"id": user.id, "email": user.email}
    except UserError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    print_json(result)
    return 0
