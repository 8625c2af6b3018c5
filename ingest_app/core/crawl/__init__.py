"""The crawler: list a company's current job URLs (dry run) and extract one posting per URL.

Public API (synchronous, thread-safe; never imports reflex):

- `list_company_jobs(spec: SourceSpec | str) -> list[ListedJob]`  raises CrawlError
- `extract_job(url: str, hints: dict | None = None) -> Posting`   raises CrawlError
- `extract_job_for_source(spec, url) -> Posting`: a job of that board at any host; raises CrawlError
- `canonicalize_url(url: str) -> str`
"""

from ingest_app.core.crawl.ats_urls import hints_for_url
from ingest_app.core.crawl.service import extract_job, extract_job_for_source, list_company_jobs
from ingest_app.core.crawl.types import ERROR_KINDS, CrawlError, ListedJob, Posting
from ingest_app.core.crawl.urls import canonicalize_url

__all__ = [
    "ERROR_KINDS",
    "CrawlError",
    "ListedJob",
    "Posting",
    "canonicalize_url",
    "extract_job",
    "extract_job_for_source",
    "hints_for_url",
    "list_company_jobs",
]
