"""`companies add --user EMAIL --name NAME --source SPEC`, `companies list --user EMAIL`."""

from __future__ import annotations

import sys
from typing import Any

from ingest_app.cli import print_json


def register(subparsers) -> None:
    parser = subparsers.add_parser("companies", help="a user's companies")
    sub = parser.add_subparsers(dest="companies_command", metavar="ACTION", required=True)
    add = sub.add_parser(
        "add",
        help="track a company (greenhouse:TOKEN, lever:SITE, ashby:ORG, careers:URL or FAMILY:BOARD_URL, "
        "e.g. workday:https://acme.wd5.myworkdayjobs.com/External)",
    )
    add.add_argument("--user", required=True, metavar="EMAIL")
    add.add_argument("--name", required=True)
    add.add_argument("--source", required=True, metavar="SPEC")
    add.add_argument("--disabled", action="store_true", help="add it switched off")
    add.set_defaults(handler=_add)
    listing = sub.add_parser("list", help="the user's companies")
    listing.add_argument("--user", required=True, metavar="EMAIL")
    listing.set_defaults(handler=_list)


def _as_dict(company) -> dict[str, Any]:
    return {"id": company.id, "name": company.name, "source": company.source, "enabled": company.enabled}


def _add(args) -> int:
    from ingest_app.core.companies import CompanyError, add_company
    from ingest_app.core.db import session_scope
    from ingest_app.core.users import get_user_by_email

    try:
        with session_scope() as session:
            user = get_user_by_email(session, args.user)
            if user is None:
                sys.stderr.write(f"error: no user {args.user}\n")
                return 1
            company = add_company(session, user.id, name=args.name, source=args.source, enabled=not args.disabled)
            result = _as_dict(company)
    except CompanyError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    print_json(result)
    return 0


def _list(args) -> int:
    from ingest_app.core.companies import list_companies
    from ingest_app.core.db import session_scope
    from ingest_app.core.users import get_user_by_email

    with session_scope() as session:
        user = get_user_by_email(session, args.user)
        if user is None:
            sys.stderr.write(f"error: no user {args.user}\n")
            return 1
        print_json([_as_dict(c) for c in list_companies(session, user.id)])
    return 0
