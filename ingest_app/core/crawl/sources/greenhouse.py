"""greenhouse:TOKEN via the Greenhouse Job Board API."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ingest_app.core.crawl import fields
from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.http import fetch_json
from ingest_app.core.crawl.sources.common import SLUG, api_url, board_not_found, dedupe, listed, with_postings
from ingest_app.core.crawl.types import CrawlError, JobListing, ListedJob, Posting
from ingest_app.core.settings import get_settings


def _base() -> str:
    return get_settings().greenhouse_api_base


def _board_jobs(token: str, content: bool) -> list[dict]:
    url = api_url(_base(), "v1", "boards", token, "jobs") + ("?content=true" if content else "")
    try:
        data = fetch_json(url)
    except CrawlError as err:
        raise board_not_found(err, "greenhouse", token) from None
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), list):
        raise CrawlError("parse_error", "the greenhouse board answer has no job list")
    return [job for job in data["jobs"] if isinstance(job, dict) and job.get("id") is not None]


def _listed_job(token: str, job: dict) -> ListedJob | None:
    return listed(
        job.get("absolute_url"),
        f"https://boards.greenhouse.io/{token}/jobs/{job.get('id')}",
        job.get("title"),
        job.get("id"),
        {"source": "greenhouse", "token": token, "job_id": job.get("id")},
    )


def list_jobs(token: str) -> list[ListedJob]:
    return dedupe([_listed_job(token, job) for job in _board_jobs(token, content=False)])


def listing_postings(token: str) -> tuple[JobListing, dict[str, Posting]]:
    """The board with `content=true`: the jobs `list_jobs` lists, each with its posting but its
    pay range (which only the single-job endpoint with `pay_transparency=true` gives; see
    DETAIL_ADDS)."""
    jobs = _board_jobs(token, content=True)
    by_id: dict[str, dict] = {}
    for job in jobs:
        by_id.setdefault(str(job["id"]), job)
    return with_postings(dedupe([_listed_job(token, job) for job in jobs]), by_id, posting_from_api)


# The single-job answer adds the pay range to what the listing carries: worth one request for a
# job that is new or changed, never for one that is unchanged.
DETAIL_ADDS = "pay ranges"


# Custom field names vary per company ("Employment Type", "Time Type", "Working Model Eligibility",
# "Job Post Range"); they are matched as whole words in the lower-cased name.
_EMPLOYMENT_NAMES = tuple(
    f" {w} "
    for w in ("employment", "job type", "commitment", "time type", "position type", "employee type", "worker type",
              "contract type", "schedule", "work type", "employment status")
)  # fmt: skip
_WORKPLACE_NAMES = tuple(
    f" {w} "
    for w in ("workplace", "remote", "location type", "work model", "working model", "work arrangement",
              "work setting", "work mode", "work style", "on site", "onsite", "hybrid", "in office", "work type")
)  # fmt: skip
_SALARY_NAMES = tuple(
    f" {w} "
    for w in ("job post range", "salary", "pay", "compensation", "wage", "pay range", "base", "salary range")
)  # fmt: skip
_MAX_FIELDS = 100


def _custom_salary(value: Any) -> fields.Salary | None:
    """A currency_range custom field ({"min_value", "max_value", "unit"}), a currency one
    ({"amount", "unit"}) or a text such as "$95,000 - $125,000 USD annually"."""
    if isinstance(value, dict):
        if "min_value" in value or "max_value" in value:
            low, high = n.salary_range(value.get("min_value"), value.get("max_value"))
        else:
            low = high = n.number(value.get("amount"))
        if fields.placeholder(low, high):
            return None
        return fields.Salary(low if low is not None else high, high if high is not None else low,
                             n.currency(value.get("unit")), None)  # fmt: skip
    if isinstance(value, str):
        return fields.salary_from_text(value[:500], labelled=True)
    return None


def _custom_fields(job: dict) -> tuple[str | None, str | None, fields.Salary | None]:
    employment = workplace = salary = None
    metadata = job.get("metadata")
    for item in metadata[:_MAX_FIELDS] if isinstance(metadata, list) else []:
        if not isinstance(item, dict) or item.get("value") in (None, "", [], {}):
            continue
        name, value = n.keywordize(str(item.get("name") or "")), item.get("value")
        if employment is None and any(key in name for key in _EMPLOYMENT_NAMES):
            employment = n.employment_type(value)
        if workplace is None and any(key in name for key in _WORKPLACE_NAMES):
            workplace = n.workplace_type(value)
        if salary is None and any(key in name for key in _SALARY_NAMES):
            salary = _custom_salary(value)
    return employment, workplace, salary


def _pay_range(job: dict) -> fields.Salary | None:
    for pay in job.get("pay_input_ranges") or []:
        if isinstance(pay, dict):
            low, high = pay.get("min_cents"), pay.get("max_cents")
            low, high = n.salary_range(
                low / 100 if isinstance(low, (int, float)) else None,
                high / 100 if isinstance(high, (int, float)) else None,
            )
            if fields.placeholder(low, high):  # 0-0: the board has no range for this job
                continue
            words = f"{pay.get('title') or ''} {pay.get('blurb') or ''}"[:300]
            return fields.Salary(low, high, n.currency(pay.get("currency_type")), fields.period(words))
    return None


def _location(job: dict) -> str | None:
    """The job's location (an object with a name, or text); else its offices joined."""
    offices = [o.get("name") for o in job.get("offices") or [] if isinstance(o, dict)]
    location = job.get("location")
    named = location.get("name") if isinstance(location, dict) else location
    return n.clean_text(named, 1000) or n.join_locations(offices)


def _department(job: dict) -> str | None:
    departments = [d.get("name") for d in job.get("departments") or [] if isinstance(d, dict) and d.get("name")]
    return n.clean_text(departments[0], 300) if departments else None


def posting_from_api(job: dict, source_url: str) -> Posting:
    location = _location(job)
    employment, workplace, custom_salary = _custom_fields(job)
    salary = _pay_range(job) or custom_salary or fields.Salary(None, None, None, None)
    posting = Posting(
        source_url=source_url,
        title=n.clean_text(job.get("title")),
        company=n.clean_text(job.get("company_name"), 200),
        location=location,
        department=_department(job),
        employment_type=employment,
        workplace_type=workplace or n.workplace_type(location),
        salary_min=salary.low,
        salary_max=salary.high,
        salary_currency=salary.currency,
        salary_period=salary.period,
        # first_published is when the job went up; updated_at moves on every edit, so it is kept
        # as source_updated_at and never stands in for the posting date.
        posted_at=n.parse_date(job.get("first_published")),
        source_updated_at=n.parse_datetime(job.get("updated_at")),
        description=n.html_to_text(job.get("content")),
        apply_url=job.get("absolute_url") or source_url,
        external_id=str(job["id"]) if job.get("id") is not None else None,
    )
    return fields.complete(posting)


def extract(hints: dict, source_url: str) -> Posting:
    token, job_id = hints.get("token"), hints.get("job_id")
    if not token or job_id is None:
        raise CrawlError("parse_error", "greenhouse hints need token and job_id", url=source_url)
    data = fetch_json(api_url(_base(), "v1", "boards", str(token), "jobs", str(job_id)) + "?pay_transparency=true")
    if not isinstance(data, dict) or not data.get("title"):
        raise CrawlError("not_a_job_page", "greenhouse returned no job posting", url=source_url)
    return posting_from_api(data, source_url)


# ----- spec and URL recognition ----------------------------------------------------------------

FAMILY = "greenhouse"
_HOSTS = ("boards.greenhouse.io", "job-boards.greenhouse.io", "boards.eu.greenhouse.io", "job-boards.eu.greenhouse.io")


def _token_of(url: str) -> str | None:
    parts = urlsplit(url)
    if (parts.hostname or "").lower() not in _HOSTS:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if segments[:1] == ["embed"]:
        token = dict(parse_qsl(parts.query)).get("for")
    else:
        token = segments[0] if segments else None
    return token if token and SLUG.match(token) else None


def normalize_board(value: str) -> str:
    """A board token, or any board/job URL of the board (`https://boards.greenhouse.io/acme`)."""
    value = value.strip()
    if "://" in value:
        token = _token_of(value)
        if token is None:
            raise ValueError("a Greenhouse board URL looks like https://boards.greenhouse.io/TOKEN")
        return token
    if not SLUG.match(value):
        raise ValueError(f"The greenhouse board token must be 1-100 letters, digits, '.', '_' or '-' (got {value!r})")
    return value


def match_url(url: str) -> str | None:
    try:
        token = _token_of(url)
    except ValueError:
        return None
    return f"{FAMILY}:{token}" if token else None


def job_hints(token: str, url: str) -> dict | None:
    """Hints for a job of board `token` at any URL: `/jobs/ID` or a `gh_jid=ID` parameter."""
    parts = urlsplit(url)
    job_id = dict(parse_qsl(parts.query)).get("gh_jid")
    segments = [s for s in parts.path.split("/") if s]
    if not job_id and len(segments) >= 2 and segments[-2] == "jobs":
        job_id = segments[-1]
    if job_id and job_id.isdigit() and len(job_id) < 20:
        return {"source": FAMILY, "token": token, "job_id": int(job_id)}
    return None
