"""One company's listing as stage 3, the preview, detection and health checks see it.

Its own module because every one of them lists through it: stage 3 records listings, the
incremental listing (pipeline/incremental.py) builds them, and health and detection probe boards
with the preview's code, without any of them importing the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from ingest_app.core.crawl import list_company_jobs
from ingest_app.core.crawl.politeness import HostBusy
from ingest_app.core.crawl.types import CrawlError, ListedJob

log = logging.getLogger(__name__)


@dataclass
class Listing:
    jobs: list[ListedJob] = field(default_factory=list)
    error: CrawlError | None = None
    incomplete: str | None = None
    # Incremental runs (pipeline/incremental.py): URL -> posting carried by the listing, URL ->
    # the source's update time, the listing to store with its validators, a 304 answer.
    postings: dict[str, dict[str, Any]] = field(default_factory=dict)
    updated: dict[str, Any] = field(default_factory=dict)
    remember: Any = None
    not_modified: bool = False

    @property
    def error_text(self) -> str | None:
        return None if self.error is None else f"{self.error.kind}: {self.error.reason}"


def list_company(source: str, *, raise_busy: bool = False) -> Listing:
    """The crawler's dry run for one company; never raises, except HostBusy with `raise_busy`
    (a worker gives the listing message back: a busy host is no failed listing)."""
    try:
        jobs = list_company_jobs(source)
        return Listing(jobs=list(jobs), incomplete=getattr(jobs, "incomplete", None))
    except CrawlError as exc:
        return Listing(error=exc)
    except HostBusy as exc:
        if raise_busy:
            raise
        return Listing(error=CrawlError("timeout", f"the site is busy or paused ({exc.reason}); try again later"))
    except ValueError as exc:  # e.g. a source spec the crawler cannot use
        return Listing(error=CrawlError("invalid_url", str(exc)))
    except Exception as exc:  # any failure to list means "do not archive this company"
        log.exception("listing %s failed unexpectedly", source)
        return Listing(error=CrawlError("connection_error", f"{type(exc).__name__}: {exc}"))
