"""Bulk company import: how long a 300-row preview and import take against boards ~200 ms away.

    python bench/companies_bench.py [--rows 300] [--latency-ms 200] [--concurrency N]

A demo site on 127.0.0.1 serves `--rows` companies cycling through every source family, each
answer delayed by `--latency-ms`. The import is a CSV mixing public board URLs (Greenhouse, Lever,
Ashby, SmartRecruiters, Workable, Rippling: their APIs pointed at the demo site), source specs of
the board-URL families and careers page URLs; every other row has no name (so its detection reads
the company name from the board too). Measured through the real core functions: the dry run
(`run_import(dry_run=True)`), the real import, then the same file again (every row a duplicate,
no request). Uses `DATABASE_URL`; without it a throwaway database on the local PostgreSQL
(`BENCH_ADMIN_DATABASE_URL`). Prints JSON figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest_bench import log, throwaway_database  # noqa: E402

PUBLIC = {
    "greenhouse": "https://boards.greenhouse.io/{slug}",
    "lever": "https://jobs.lever.co/{slug}",
    "ashby": "https://jobs.ashbyhq.com/{slug}",
    "smartrecruiters": "https://jobs.smartrecruiters.com/{slug}",
    "workable": "https://apply.workable.com/{slug}/",
    "rippling": "https://ats.rippling.com/{slug}/jobs",
}


def build_csv(site, base_url: str) -> str:
    from devtools.demo.data import source_for

    lines = ["name,url"]
    for i, company in enumerate(site.companies.values()):
        if company.kind in PUBLIC:
            given = PUBLIC[company.kind].format(slug=company.slug)
        elif company.kind == "careers":
            given = f"{base_url}/careers/{company.slug}/"
        else:
            given = source_for(company.kind, company.slug, base_url)
        name = company.name if i % 2 == 0 else ""
        lines.append(f'"{name}",{given}')
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=None, help="IMPORT_CONCURRENCY (default: the setting)")
    args = parser.parse_args()
    if not 1 <= args.rows <= 5000:
        parser.error("--rows must be 1-5000")

    from devtools.demo.site import DemoSite, start_demo_server
    from ingest_app.core.models import SOURCE_KINDS

    site = DemoSite.generate(
        companies=args.rows, jobs_per_company=5, page_kb=0, nav_links=12, kinds=SOURCE_KINDS, page_size=50
    )
    with ExitStack() as stack:
        server = start_demo_server(site)
        stack.callback(server.stop)
        os.environ.update(server.settings_env())
        if args.concurrency:
            os.environ["IMPORT_CONCURRENCY"] = str(args.concurrency)
        if not os.environ.get("DATABASE_URL"):
            os.environ["DATABASE_URL"] = stack.enter_context(throwaway_database())
        from ingest_app.core.company_import import run_import
        from ingest_app.core.db import session_scope
        from ingest_app.core.models import User
        from ingest_app.core.settings import get_settings, reset_settings_cache

        reset_settings_cache()
        with session_scope() as session:
            user = User(email=f"bench-{time.time_ns()}@example.com", password_hash="x")
            session.add(user)
            session.flush()
            user_id = user.id
        text = build_csv(site, server.base_url)
        site.set_latency(args.latency_ms / 1000)
        figures: dict = {
            "rows": args.rows,
            "latency_ms": args.latency_ms,
            "import_concurrency": get_settings().import_concurrency,
            "per_host_concurrency": get_settings().crawler_per_host_concurrency,
            "csv_bytes": len(text.encode()),
        }
        for label, dry_run in (("dry_run", True), ("import", False), ("reimport", False)):
            before = site.request_count
            log(f"{label}: {args.rows} rows")
            started = time.perf_counter()
            summary = run_import(user_id, text, dry_run=dry_run)
            seconds = time.perf_counter() - started
            statuses = {s: sum(r.status == s for r in summary.rows) for s in ("new", "duplicate", "error")}
            figures[label] = {
                "seconds": round(seconds, 2),
                "rows_per_second": round(args.rows / seconds, 1) if seconds else None,
                "requests": site.request_count - before,
                "added": summary.added,
                **statuses,
                "errors_sample": [r.error for r in summary.rows if r.status == "error"][:3],
                "unnamed": sum(1 for r in summary.rows if not r.name),
            }
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
