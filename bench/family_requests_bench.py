"""Requests each source family spends on the demo site: one listing, then extracting every listed
job (the current contract), and the listing-as-postings path where the family has one.

    PYTHONPATH=. .venv/bin/python bench/family_requests_bench.py
"""

from __future__ import annotations

import os
import time

from devtools.demo.site import DemoSite, start_demo_server
from ingest_app.core.crawl import extract_job, list_company_jobs
from ingest_app.core.crawl.sources import clear_caches, get_family
from ingest_app.core.settings import reset_settings_cache


def main() -> None:
    site = DemoSite.generate(companies=14, jobs_per_company=60, page_kb=0, nav_links=12, kinds=_kinds())
    server = start_demo_server(site)
    os.environ.update(server.settings_env())
    reset_settings_cache()
    try:
        print(f"{'family':<16}{'jobs':>6}{'list req':>10}{'extract req':>13}{'as postings req':>17}{'wall s':>9}")
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
            rich = "-"
            if family.listing_postings is not None:
                clear_caches()
                before = site.request_count
                family.listing_postings(entry["source"].split(":", 1)[1])
                rich = str(site.request_count - before)
            print(f"{company.kind:<16}{len(jobs):>6}{listed:>10}{extracted:>13}{rich:>17}{wall:>9.2f}")
    finally:
        server.stop()


def _kinds() -> tuple[str, ...]:
    from devtools.demo.data import ALL_KINDS

    return ALL_KINDS


if __name__ == "__main__":
    main()
