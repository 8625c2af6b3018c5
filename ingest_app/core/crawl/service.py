"""The crawler's public functions: list a company's jobs (dry run), extract one posting."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from ingest_app.core.crawl import deadline
from ingest_app.core.crawl.ats_urls import hints_for_url
from ingest_app.core.crawl.extract import extract_from_html
from ingest_app.core.crawl.http import PAGE_TYPES, fetch, set_robots_check
from ingest_app.core.crawl.politeness import HostBusy
from ingest_app.core.crawl.robots import check_robots
from ingest_app.core.crawl.sources import get_family
from ingest_app.core.crawl.types import CrawlError, JobListing, ListedJob, Posting
from ingest_app.core.crawl.urls import MAX_URL_LENGTH, canonicalize_url
from ingest_app.core.settings import get_settings
from ingest_app.core.sources import InvalidSourceSpec, SourceSpec, parse_source_spec

# Every careers-page fetch (robots=True) asks robots.txt through this check.
set_robots_check(check_robots)


def list_company_jobs(spec: SourceSpec | str) -> JobListing:
    """The jobs a company lists now: canonical, deduplicated URLs, at most
    `crawler_max_jobs_per_company` of them (a cut listing says so in `incomplete`), all fetched
    under one deadline (`crawler_listing_timeout`, or an earlier enclosing one). Raises CrawlError."""
    if isinstance(spec, str):
        try:
            spec = parse_source_spec(spec)
        except InvalidSourceSpec as exc:
            raise CrawlError("invalid_url", str(exc)) from None
    family = get_family(spec.kind)
    if family is None:
        raise CrawlError("invalid_url", f"unknown source kind {spec.kind!r}")
    settings = get_settings()
    with deadline.within(settings.crawler_listing_timeout):
        jobs = guarded(lambda: family.list_jobs(spec.value))
    return capped(jobs, settings.crawler_max_jobs_per_company)


def capped(jobs: list[ListedJob], limit: int) -> JobListing:
    """The first `limit` jobs; a listing cut here (or by its source) names the cut in `incomplete`."""
    listing = JobListing(jobs[:limit])
    listing.incomplete = getattr(jobs, "incomplete", None)
    if len(jobs) > limit:
        listing.incomplete = f"listed {len(jobs)} job URLs, more than the limit of {limit}; kept the first {limit}"
    return listing


def extract_job(url: str, hints: dict | None = None) -> Posting:
    """One normalized posting for a job URL. Raises CrawlError (err.kind, err.reason, err.transient)."""
    return guarded(lambda: _extract(url, hints))


def source_hints(spec: SourceSpec | str, url: str) -> dict:
    """Extraction hints for a job of the board `spec` at `url`, whatever its host (a custom
    domain, a self-hosted board, a local server). Raises CrawlError when the URL is not one."""
    if isinstance(spec, str):
        try:
            spec = parse_source_spec(spec)
        except InvalidSourceSpec as exc:
            raise CrawlError("invalid_url", str(exc)) from None
    family = get_family(spec.kind)
    source_url = canonicalize_url(url)
    if family is None or family.job_hints is None:
        return {}
    hints = family.job_hints(spec.value, source_url)
    if not hints:
        raise CrawlError("invalid_url", f"{source_url} is not a job URL of {spec}", url=source_url)
    return hints


def extract_job_for_source(spec: SourceSpec | str, url: str) -> Posting:
    """`extract --source SPEC URL`: one posting of that board, read from its ATS API."""
    return guarded(lambda: _extract(url, source_hints(spec, url)))


def _extract(url: str, hints: dict | None) -> Posting:
    source_url = canonicalize_url(url)
    given = dict(hints or {})
    hints = given or hints_for_url(source_url)
    if hints and not given:  # a bare ATS URL (`extract URL`): nobody told us the company's name
        hints["find_company"] = True
    family = get_family(str(hints.get("source", "")))
    extractor = family.extract if family is not None else None
    if extractor is not None:
        posting = extractor(hints, source_url)
    else:
        result = fetch(source_url, accept=PAGE_TYPES, robots=True)
        posting = extract_from_html(result.text, source_url)
    if hints.get("company") and not posting.company:
        posting.company = str(hints["company"])[:200]
    posting.apply_url = safe_link(posting.apply_url, source_url)
    return posting


def safe_link(link: str | None, base: str) -> str:
    """`link` made absolute against `base`, or `base` when it is no http(s) URL a user may follow
    (an apply link is shown to users, so a `javascript:` or oversized one never gets through)."""
    if not link:
        return base
    try:
        absolute = urljoin(base, str(link).strip())
        scheme = urlsplit(absolute).scheme
    except ValueError:
        return base
    return absolute if scheme in ("http", "https") and len(absolute) <= MAX_URL_LENGTH else base


def guarded(fn):
    """Run one crawl step so that anything it raises becomes a typed CrawlError (or HostBusy):
    callers and the worker then handle a parser bug on a hostile page like any bad page."""
    try:
        return fn()
    except (CrawlError, HostBusy):
        raise
    except RecursionError:
        raise CrawlError("parse_error", "the page is nested too deeply to read") from None
    except MemoryError:
        raise CrawlError("too_large", "the page is too large to read") from None
    except Exception as exc:  # noqa: BLE001 - the contract: typed errors only
        raise CrawlError("parse_error", f"unexpected content ({exc.__class__.__name__}: {exc})"[:300]) from None
