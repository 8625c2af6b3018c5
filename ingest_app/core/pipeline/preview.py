"""Stage 2, the dry run: the URLs one of the user's companies lists now (nothing is written).

The listing runs in the bounded preview pool (`core.listing_pool`) under its deadline.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import TimeoutError as FutureTimeout

from sqlmodel import Session

from ingest_app.core import listing_pool
from ingest_app.core.companies import get_company
from ingest_app.core.crawl.types import CrawlError
from ingest_app.core.db import session_scope
from ingest_app.core.models import Company
from ingest_app.core.pipeline.listing import Listing, list_company
from ingest_app.core.pipeline.read_models import ListingError, PreviewResult
from ingest_app.core.settings import get_settings

_PREVIEW_GRACE = 5.0  # seconds a waiting caller allows beyond the preview deadline


def _preview_result(company: Company, listing: Listing) -> PreviewResult:
    error = listing.error
    return PreviewResult.of(
        company_id=company.id or 0,
        name=company.name,
        source=company.source,
        urls=[job.url for job in listing.jobs],
        error=None if error is None else ListingError(kind=error.kind, reason=error.reason),
    )


def _preview_timed_out() -> Listing:
    seconds = get_settings().preview_timeout
    return Listing(error=CrawlError("timeout", f"the preview took longer than {seconds:g} s; stopped"))


def preview_company(session: Session, user_id: int, company_id: int) -> PreviewResult:
    """Stage 2 dry run: the URLs one of the user's companies lists now (nothing is written).

    The listing runs in the bounded preview pool under its deadline; raises PreviewBusy when the
    user (or the server) has too many previews in flight, CompanyNotFound for another's company."""
    company = get_company(session, user_id, company_id)
    pool = listing_pool.get_pool()
    future = pool.submit(user_id, lambda: list_company(company.source))
    try:
        listing = future.result(timeout=pool.timeout + _PREVIEW_GRACE)
    except FutureTimeout:
        listing = _preview_timed_out()
    return _preview_result(company, listing)


def _preview_in_pool(user_id: int, company_id: int, found: list[Company]) -> PreviewResult:
    with session_scope() as session:
        company = get_company(session, user_id, company_id)
    found.append(company)
    return _preview_result(company, list_company(company.source))


async def preview_company_async(user_id: int, company_id: int) -> PreviewResult:
    """`preview_company` for async callers (the API route, the UI): the company lookup and the
    listing both run in the preview pool, and the caller awaits without holding any thread."""
    pool = listing_pool.get_pool()
    found: list[Company] = []
    future = pool.submit(user_id, lambda: _preview_in_pool(user_id, company_id, found))
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout=pool.timeout + _PREVIEW_GRACE)
    except TimeoutError:
        if not found:  # the lookup itself did not finish (database stuck): no result to show
            raise
        return _preview_result(found[0], _preview_timed_out())
