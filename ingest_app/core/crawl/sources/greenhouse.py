"""greenhouse:TOKEN via the Greenhouse Job Board API."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.http import fetch_json
from ingest_app.core.crawl.sources.common import SLUG, api_url, board_not_found, dedupe, listed
from ingest_app.core.crawl.types import CrawlError, ListedJob, Posting
from ingest_app.core.settings import get_settings


def _base() -> str:
    return get_settings().greenhouse_api_base


def list_jobs(token: str) -> list[ListedJob]:
    try:
        data = fetch_json(api_url(_base(), "v1", "boards", token, "jobs"))
    except CrawlError as err:
        raise board_not_found(err, "greenhouse", token) from None
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), list):
        raise CrawlError("parse_error", "the greenhouse board answer has no job list")
    return dedupe(
        [
            listed(
                job.get("absolute_url"),
                f"https://boards.greenhouse.io/{token}/jobs/{job.get('id')}",
                job.get("title"),
                job.get("id"),
                {"source": "greenhouse", "token": token, "job_id": job.get("id")},
            )
            for job in data["jobs"]
            if isinstance(job, dict) and job.get("id") is not None
        ]
    )


def _metadata(job: dict, *names: str) -> Any:
    for item in job.get("metadata") or []:
        if isinstance(item, dict) and any(name in str(item.get("name", "")).lower() for name in names):
            return item.get("value")
    return None


def posting_from_api(job: dict, source_url: str) -> Posting:
    offices = [o.get("name") for o in job.get("offices") or [] if isinstance(o, dict)]
    location = n.clean_text(
        (job.get("location") or {}).get("name") if isinstance(job.get("location"), dict) else job.get("location"), 1000
    ) or n.join_locations(offices)
    departments = [d.get("name") for d in job.get("departments") or [] if isinstance(d, dict) and d.get("name")]
    salary_min = salary_max = salary_currency = None
    for pay in job.get("pay_input_ranges") or []:
        if isinstance(pay, dict):
            low, high = pay.get("min_cents"), pay.get("max_cents")
            salary_min, salary_max = n.salary_range(
                low / 100 if isinstance(low, (int, float)) else None,
                high / 100 if isinstance(high, (int, float)) else None,
            )
            salary_currency = n.currency(pay.get("currency_type"))
            break
    return Posting(
        source_url=source_url,
        title=n.clean_text(job.get("title")),
        company=n.clean_text(job.get("company_name"), 200),
        location=location,
        department=n.clean_text(departments[0], 300) if departments else None,
        employment_type=n.employment_type(_metadata(job, "employment", "job type", "commitment")),
        workplace_type=n.workplace_type(_metadata(job, "workplace", "remote", "location type"))
        or n.workplace_type(location),
        salary_min=salary_min,
        salary_max=salary_max,
        salary_currency=salary_currency,
        posted_at=n.parse_date(job.get("first_published") or job.get("updated_at")),
        description=n.html_to_text(job.get("content")),
        apply_url=job.get("absolute_url") or source_url,
        external_id=str(job["id"]) if job.get("id") is not None else None,
    )


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
