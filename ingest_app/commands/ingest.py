"""`ingest --user EMAIL [--company-id ID ...] [--wait]`: start a run, do stage 3 here, then (with
--wait) follow the workers until the run finishes and print its summary as JSON."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from ingest_app.commands.output import print_json

if TYPE_CHECKING:
    from ingest_app.core.pipeline.read_models import RunProgress

SUMMARY_KEYS = (
    "run_id",
    "status",
    "total_jobs_found",
    "jobs_processed",
    "jobs_added",
    "jobs_failed",
    "jobs_skipped",
    "jobs_archived",
)


def register(subparsers) -> None:
    parser = subparsers.add_parser("ingest", help="run an ingestion for a user's companies")
    parser.add_argument("--user", required=True, metavar="EMAIL")
    parser.add_argument("--company-id", type=int, action="append", dest="company_ids", metavar="ID")
    parser.add_argument("--wait", action="store_true", help="wait until the workers finish the run")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait at most (with --wait)")
    parser.add_argument("--poll-interval", type=float, default=0.5)
    parser.set_defaults(handler=_run)


def summary(progress: RunProgress) -> dict[str, Any]:
    out: dict[str, Any] = {key: getattr(progress, key) for key in SUMMARY_KEYS}
    out["duration_seconds"] = progress.elapsed_seconds
    if progress.skipped_items:  # pages that were not job postings: processed, not failed
        out["skipped_items"] = [{"url": i.url, "reason": i.reason} for i in progress.skipped_items]
    if progress.error_message:
        out["error_message"] = progress.error_message
    return out


def wait_for_run(user_id: int, run_id: int, *, timeout: float, poll_interval: float = 0.5) -> RunProgress:
    """Poll the run until it is completed or failed (or `timeout` passes); its progress.

    While the database cannot be reached the run goes on in the workers: say so once on stderr and
    keep waiting (the error is raised only if it is still unreachable when `timeout` passes)."""
    from ingest_app.core.db import is_connection_error, one_line, session_scope
    from ingest_app.core.pipeline import get_progress

    deadline = time.monotonic() + timeout
    down_since: float | None = None
    while True:
        try:
            with session_scope() as session:
                progress = get_progress(session, user_id, run_id)
        except Exception as exc:
            if not is_connection_error(exc) or time.monotonic() >= deadline:
                raise
            if down_since is None:
                down_since = time.monotonic()
                sys.stderr.write(
                    f"warning: the database is unreachable ({one_line(exc)}); run {run_id} goes on, still waiting\n"
                )
            time.sleep(poll_interval)
            continue
        if down_since is not None:
            sys.stderr.write(f"the database is reachable again after {time.monotonic() - down_since:.0f} s\n")
            down_since = None
        if progress.finished or time.monotonic() >= deadline:
            return progress
        time.sleep(poll_interval)


def _run(args) -> int:
    from ingest_app.accounts.users import get_user_by_email
    from ingest_app.core.db import session_scope
    from ingest_app.core.pipeline import PipelineError, get_progress, run_stage3, start_run

    try:
        with session_scope() as session:
            user = get_user_by_email(session, args.user)
            if user is None:
                sys.stderr.write(f"error: no user {args.user}\n")
                return 1
            user_id = user.id
            run_id = start_run(session, user_id, args.company_ids).run_id
    except PipelineError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    run_stage3(run_id)
    if args.wait:
        progress = wait_for_run(user_id, run_id, timeout=args.timeout, poll_interval=args.poll_interval)
    else:
        with session_scope() as session:
            progress = get_progress(session, user_id, run_id)
    print_json(summary(progress))
    if progress.status == "failed":
        return 1
    if args.wait and progress.status != "completed":
        sys.stderr.write(f"error: run {run_id} still {progress.status} after {args.timeout:.0f} s\n")
        return 1
    return 0
