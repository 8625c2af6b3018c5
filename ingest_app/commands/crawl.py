"""`dry-run --source SPEC` lists a company's current job URLs; `extract URL` (or `extract --source SPEC URL`)
prints one posting."""

from __future__ import annotations

import json
import sys

from ingest_app.commands.output import print_json

SPEC_HELP = (
    "greenhouse:TOKEN, lever:SITE, ashby:ORG, careers:URL or FAMILY:BOARD_URL for workday, smartrecruiters, "
    "workable, recruitee, personio, teamtailor, bamboohr, pinpoint, rippling, breezy "
    "(e.g. recruitee:https://acme.recruitee.com/)"
)


def register(subparsers) -> None:
    dry = subparsers.add_parser("dry-run", help="print the JSON array of a source's current job URLs")
    dry.add_argument("--source", required=True, help=SPEC_HELP)
    dry.set_defaults(handler=_dry_run)
    extract = subparsers.add_parser(
        "extract",
        help="print one normalized job posting as JSON (a known ATS job URL is read from the ATS API)",
    )
    extract.add_argument("url")
    extract.add_argument("--hints", default=None, help="source hints as JSON (as listed by the dry run)")
    extract.add_argument(
        "--source", default=None, metavar="SPEC", help="the job's board, for a job URL on any host: " + SPEC_HELP
    )
    extract.set_defaults(handler=_extract)


def _fail(err) -> int:
    sys.stdout.write(json.dumps(err.to_dict()) + "\n")
    return 1


def _dry_run(args) -> int:
    from ingest_app.core.crawl import CrawlError, list_company_jobs

    try:
        jobs = list_company_jobs(args.source)
    except CrawlError as err:
        return _fail(err)
    print_json([job.url for job in jobs])
    return 0


def _extract(args) -> int:
    from ingest_app.core.crawl import CrawlError, extract_job, extract_job_for_source

    if args.source and args.hints:
        sys.stdout.write(json.dumps({"error": "invalid_url", "reason": "give --source or --hints, not both"}) + "\n")
        return 1
    try:
        hints = json.loads(args.hints) if args.hints else None
        if hints is not None and not isinstance(hints, dict):
            raise ValueError
        posting = extract_job_for_source(args.source, args.url) if args.source else extract_job(args.url, hints)
    except ValueError:
        sys.stdout.write(json.dumps({"error": "invalid_url", "reason": "--hints must be a JSON object"}) + "\n")
        return 1
    except CrawlError as err:
        return _fail(err)
    print_json(posting.to_dict())
    return 0
