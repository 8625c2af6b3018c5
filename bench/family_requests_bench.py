"""Requests each source family spends on the demo site: one listing, then extracting every listed
job (the crawler's contract); the listing-as-postings call where the family has one, and how many
listed jobs it carries a posting for; and a first pipeline run: stage 3's listing, then the
worker (another process: board caches cold) extracting the jobs that got no posting from it.

    PYTHONPATH=. .venv/bin/python bench/family_requests_bench.py [--rich greenhouse,lever,...]

`--rich` sets the families stage 3 reads as postings (default: `RICH_FAMILIES`), to compare
with another set on the same site.
"""

from __future__ import annotations

import argparse
import os
import time

from devtools.demo.site import DemoSite, start_demo_server
from ingest_app.core.crawl import extract_job, list_company_jobs
from ingest_app.core.crawl.sources import clear_caches, get_family
from ingest_app.core.pipeline import incremental, job_pages
from ingest_app.core.settings import reset_settings_cache


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rich", help="comma-separated families read as postings (default: RICH_FAMILIES)")
    parser.add_argument("--jobs", type=int, default=60, help="jobs per company (default 60)")
    args = parser.parse_args()
    if args.rich is not None:
        incremental.RICH_FAMILIES = tuple(name for name in args.rich.split(",") if name)
    site = DemoSite.generate(companies=14, jobs_per_company=args.jobs, page_kb=0, nav_links=12, kinds=_kinds())
    server = start_demo_server(site)
    os.environ.update(server.settings_env())
    reset_settings_cache()
    header = ("family", "jobs", "list req", "extract req", "as postings req", "carried", "first run req", "wall s")
    widths = (16, 6, 10, 13, 17, 9, 15, 9)
    print(_row(header, widths))
    try:
        for entry, company in zip(server.company_sources(), site.companies.values(), strict=True):
            family = get_family(company.kind)
            clear_caches()
            start, started = site.request_count, time.perf_counter()
            jobs = list_company_jobs(entry["source"])
            listed = site.request_count - start
            for job in jobs:
                extract_job(job.url, job.hints)
            extracted = site.request_count - start - listed
            wall = time.perf_counter() - started
            rich, carried = "-", "-"
            if family.listing_postings is not None:
                clear_caches()
                before = site.request_count
                _, postings = family.listing_postings(entry["source"].split(":", 1)[1])
                rich, carried = str(site.request_count - before), str(len(postings))
            first = _first_run(site, entry["source"])
            row = (company.kind, len(jobs), listed, extracted, rich, carried, first, f"{wall:.2f}")
            print(_row(row, widths))
    finally:
        server.stop()


def _row(values: tuple, widths: tuple[int, ...]) -> str:
    cells = zip(values, widths, strict=True)
    return "".join(f"{v!s:<{w}}" if i == 0 else f"{v!s:>{w}}" for i, (v, w) in enumerate(cells))


def _first_run(site: DemoSite, source: str) -> int:
    """Requests of a first run's stage-3 listing and of the worker's crawl of its items."""
    clear_caches()
    before = site.request_count
    listing = incremental.list_company(source, {}, lambda updated: False)
    clear_caches()  # the worker is another process
    for job in listing.jobs:
        body = {"url": job.url, "hints": job.hints, "posting": listing.postings.get(job.url)}
        job_pages.crawl(body, extract_job)
    return site.request_count - before


def _kinds() -> tuple[str, ...]:
    from devtools.demo.data import ALL_KINDS

    return ALL_KINDS


if __name__ == "__main__":
    main()
