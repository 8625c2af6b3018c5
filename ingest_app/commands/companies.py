"""`companies add --user EMAIL --name NAME --source SPEC`, `companies list --user EMAIL`,
`companies detect URL`, `companies import FILE --user EMAIL [--dry-run]`, `companies export --user EMAIL`."""

from __future__ import annotations

import sys
from typing import Any

from ingest_app.commands.output import print_json


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
    detect = sub.add_parser("detect", help="which board is behind a URL (each proposal probed live)")
    detect.add_argument("url", metavar="URL")
    detect.set_defaults(handler=_detect)
    imp = sub.add_parser("import", help="add companies from a CSV (name,url / name,source) or a list of URLs")
    imp.add_argument("file", metavar="FILE", help="the file to read, - for standard input")
    imp.add_argument("--user", required=True, metavar="EMAIL")
    imp.add_argument("--dry-run", action="store_true", help="detect and report every row, add nothing")
    imp.set_defaults(handler=_import)
    export = sub.add_parser("export", help="the user's companies as CSV (name,source,enabled)")
    export.add_argument("--user", required=True, metavar="EMAIL")
    export.set_defaults(handler=_export)


def _as_dict(company) -> dict[str, Any]:
    return {"id": company.id, "name": company.name, "source": company.source, "enabled": company.enabled}


def _add(args) -> int:
    from ingest_app.accounts.users import get_user_by_email
    from ingest_app.core.companies import CompanyError, add_company
    from ingest_app.core.db import session_scope

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
    from ingest_app.accounts.users import get_user_by_email
    from ingest_app.core.companies import list_companies
    from ingest_app.core.db import session_scope

    with session_scope() as session:
        user = get_user_by_email(session, args.user)
        if user is None:
            sys.stderr.write(f"error: no user {args.user}\n")
            return 1
        print_json([_as_dict(c) for c in list_companies(session, user.id)])
    return 0


def _user_id(email: str) -> int | None:
    from ingest_app.accounts.users import get_user_by_email
    from ingest_app.core.db import session_scope

    with session_scope() as session:
        user = get_user_by_email(session, email)
        return None if user is None else user.id


def _detect(args) -> int:
    from dataclasses import asdict

    from ingest_app.core.detect import detect

    found = detect(args.url)
    print_json(asdict(found))
    return 0 if found.proposals else 1


def _import(args) -> int:
    from dataclasses import asdict

    from ingest_app.core.company_import import ImportInputError, run_import
    from ingest_app.core.settings import get_settings

    limit = get_settings().import_max_bytes
    try:
        if args.file == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with open(args.file, "rb") as handle:
                data = handle.read(limit + 1)
    except OSError as exc:
        sys.stderr.write(f"error: cannot read {args.file}: {exc.strerror or exc}\n")
        return 1
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        sys.stderr.write(f"error: {args.file} is not UTF-8 text; save it as CSV (UTF-8)\n")
        return 1
    user_id = _user_id(args.user)
    if user_id is None:
        sys.stderr.write(f"error: no user {args.user}\n")
        return 1
    try:
        if len(data) > limit:
            raise ImportInputError(f"The import is larger than {limit // 1024} KB; split it")
        summary = run_import(user_id, text, dry_run=args.dry_run)
    except ImportInputError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    result = asdict(summary)
    result["dry_run"] = args.dry_run
    result["new"] = sum(r.status == "new" for r in summary.rows)
    print_json(result)
    return 1 if summary.errors else 0


def _export(args) -> int:
    from ingest_app.core.company_import import export_csv
    from ingest_app.core.db import session_scope

    user_id = _user_id(args.user)
    if user_id is None:
        sys.stderr.write(f"error: no user {args.user}\n")
        return 1
    with session_scope() as session:
        sys.stdout.write(export_csv(session, user_id))
    return 0
