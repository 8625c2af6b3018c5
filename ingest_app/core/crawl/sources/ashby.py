"""ashby:ORG via the Ashby public job board API. Ashby has no single-job endpoint, so extraction
reads the board through a short per-process cache."""

from __future__ import annotations

import re
import threading
import time
from urllib.parse import unquote, urlsplit

from ingest_app.core.crawl import fields
from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.extract import employer_of_page
from ingest_app.core.crawl.http import fetch_json
from ingest_app.core.crawl.sources.common import SLUG, api_url, board_not_found, dedupe, listed, with_postings
from ingest_app.core.crawl.types import CrawlError, JobListing, ListedJob, Posting
from ingest_app.core.settings import get_settings

_MIN_REFRESH_SECONDS = 5.0
_cache: dict[str, tuple[float, dict[str, dict]]] = {}
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _board_url(org: str) -> str:
    return api_url(get_settings().ashby_api_base, "posting-api", "job-board", org) + "?includeCompensation=true"


def _fetch_board(org: str) -> dict[str, dict]:
    url = _board_url(org)
    try:
        data = fetch_json(url)
    except CrawlError as err:
        raise board_not_found(err, "ashby", org) from None
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), list):
        raise CrawlError("parse_error", "the ashby board answer has no job list", url=url)
    board = {str(job["id"]): job for job in data["jobs"] if isinstance(job, dict) and job.get("id")}
    _cache[url] = (time.monotonic(), board)
    return board


def _cached_board(org: str, job_id: str) -> dict[str, dict]:
    url = _board_url(org)
    with _locks_guard:
        lock = _locks.setdefault(url, threading.Lock())
    with lock:  # one board fetch at a time per board, however many worker threads ask
        cached = _cache.get(url)
        if cached:
            age = time.monotonic() - cached[0]
            fresh = age < get_settings().crawler_board_cache_seconds
            if fresh and (job_id in cached[1] or age < _MIN_REFRESH_SECONDS):
                return cached[1]
        return _fetch_board(org)


def _listed_jobs(org: str, board: dict[str, dict]) -> list[tuple[ListedJob, dict]]:
    pairs, seen = [], set()
    for job_id, job in board.items():
        if job.get("isListed", True) is False:
            continue
        listed_job = listed(
            job.get("jobUrl"),
            f"https://jobs.ashbyhq.com/{org}/{job_id}",
            job.get("title"),
            job_id,
            {"source": "ashby", "org": org, "job_id": job_id},
        )
        if listed_job is not None and listed_job.url not in seen:
            seen.add(listed_job.url)
            pairs.append((listed_job, job))
    return pairs


def list_jobs(org: str) -> list[ListedJob]:
    return dedupe([job for job, _ in _listed_jobs(org, _fetch_board(org))])


def listing_postings(org: str) -> tuple[JobListing, dict[str, Posting]]:
    """The board (with compensation) is every posting; Ashby has no single-job endpoint anyway."""
    board = _fetch_board(org)
    return with_postings(dedupe([job for job, _ in _listed_jobs(org, board)]), board, posting_from_api)


def _salary(compensation: dict | None) -> fields.Salary | None:
    if not isinstance(compensation, dict):
        return None
    components = list(compensation.get("summaryComponents") or [])
    for tier in compensation.get("compensationTiers") or []:
        if isinstance(tier, dict):
            components.extend(tier.get("components") or [])
    for comp in components:
        if isinstance(comp, dict) and str(comp.get("compensationType", "")).lower() == "salary":
            low, high = n.salary_range(comp.get("minValue"), comp.get("maxValue"))
            if fields.placeholder(low, high):
                continue
            return fields.Salary(
                low if low is not None else high,
                high if high is not None else low,
                n.currency(comp.get("currencyCode")),
                fields.period(comp.get("interval")),
            )
    summary = compensation.get("scrapeableCompensationSalarySummary") or compensation.get("compensationTierSummary")
    return fields.salary_from_text(str(summary)[:500], labelled=True) if summary else None


def posting_from_api(job: dict, source_url: str, company: str | None = None) -> Posting:
    locations = [job.get("location")] + [
        loc.get("location") for loc in job.get("secondaryLocations") or [] if isinstance(loc, dict)
    ]
    salary = _salary(job.get("compensation")) or fields.Salary(None, None, None, None)
    posting = Posting(
        source_url=source_url,
        title=n.clean_text(job.get("title")),
        company=n.clean_text(company, 200),
        location=n.join_locations([loc for loc in locations if loc]),
        department=n.clean_text(job.get("department") or job.get("team"), 300),
        employment_type=n.employment_type(job.get("employmentType")),
        workplace_type=n.workplace_type(job.get("workplaceType")),  # not isRemote: true for hybrid too
        salary_min=salary.low,
        salary_max=salary.high,
        salary_currency=salary.currency,
        salary_period=salary.period,
        posted_at=n.parse_date(job.get("publishedAt")),
        source_updated_at=n.parse_datetime(job.get("updatedAt")),
        description=n.html_to_text(job.get("descriptionHtml") or job.get("descriptionPlain")),
        apply_url=job.get("applyUrl") or job.get("jobUrl") or source_url,
        external_id=str(job.get("id")) if job.get("id") else None,
    )
    return fields.complete(posting)


def extract(hints: dict, source_url: str) -> Posting:
    org, job_id = hints.get("org"), hints.get("job_id")
    if not org or not job_id:
        raise CrawlError("parse_error", "ashby hints need org and job_id", url=source_url)
    job = _cached_board(str(org), str(job_id)).get(str(job_id))
    if job is None:
        raise CrawlError("not_found", "the job is no longer on the ashby board", url=source_url)
    company = hints.get("company")
    if not company and hints.get("find_company") and isinstance(job.get("jobUrl"), str):
        company = employer_of_page(job["jobUrl"])  # the board answer does not name the company
    return posting_from_api(job, source_url, company)


def clear_cache() -> None:
    _cache.clear()


# ----- spec and URL recognition ----------------------------------------------------------------

FAMILY = "ashby"
_UUID = re.compile(r"^[0-9a-f-]{36}$")


def normalize_board(value: str) -> str:
    """An organization name, or any board/job URL of it (`https://jobs.ashbyhq.com/acme`)."""
    value = value.strip()
    if "://" in value:
        spec = match_url(value)
        if spec is None:
            raise ValueError("an Ashby board URL looks like https://jobs.ashbyhq.com/ORG")
        return spec.split(":", 1)[1]
    if not SLUG.match(value):
        raise ValueError(f"The ashby organization name must be 1-100 letters, digits, '.', '_' or '-' (got {value!r})")
    return value


def match_url(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if (parts.hostname or "").lower() == "jobs.ashbyhq.com" and segments and SLUG.match(segments[0]):
        return f"{FAMILY}:{segments[0]}"
    return None


def job_hints(org: str, url: str) -> dict | None:
    segments = [s for s in urlsplit(url).path.split("/") if s]
    for segment in reversed(segments[-2:]):
        if _UUID.match(segment.lower()):
            return {"source": FAMILY, "org": org, "job_id": segment.lower()}
    return None
