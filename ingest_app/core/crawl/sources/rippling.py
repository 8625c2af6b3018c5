"""rippling:BOARD_URL via Rippling's public ATS board API (`RIPPLING_API_BASE`):
`/platform/api/ats/v1/board/{slug}/jobs` (title, department, place) and `.../jobs/{uuid}` (the
description). The board is `https://ats.rippling.com/{slug}/jobs`; a job is `{board}/{uuid}`."""

from __future__ import annotations

import re

from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.http import fetch_json
from ingest_app.core.crawl.sources.common import (
    api_url,
    board_base,
    board_ref,
    dedupe,
    expect,
    fetch_board_json,
    host_of,
    job_ref,
    listed,
    path_segments,
    relative_segments,
    required_hints,
    text_field,
)
from ingest_app.core.crawl.types import CrawlError, JobListing, Posting
from ingest_app.core.settings import get_settings

FAMILY = "rippling"
HOST = "ats.rippling.com"
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_UUID = re.compile(r"^[0-9a-fA-F-]{32,36}$")


def _slug(board: str) -> str:
    return path_segments(board)[-2]


def normalize_board(value: str) -> str:
    value = value.strip()
    if _SLUG.match(value):
        return f"https://{HOST}/{value}/jobs"
    if host_of(value) == HOST:
        segments = path_segments(value)
        if segments and segments[0] in ("en-GB", "en-US", "es", "fr", "de") and len(segments) > 1:
            segments = segments[1:]
        if not segments or not _SLUG.match(segments[0]):
            raise ValueError("a Rippling board URL names the company, e.g. https://ats.rippling.com/acme/jobs")
        return f"https://{HOST}/{segments[0]}/jobs"
    board = board_base(value)
    segments = path_segments(board)
    if segments and segments[-1] != "jobs":
        board, segments = board + "/jobs", [*segments, "jobs"]
    if len(segments) < 2 or not _SLUG.match(segments[-2]):
        raise ValueError("a Rippling board URL ends with /SLUG/jobs")
    return board


def match_url(url: str) -> str | None:
    if host_of(url) != HOST:
        return None
    return board_ref(FAMILY, normalize_board, url)


def job_hints(board: str, url: str) -> dict | None:
    rest = relative_segments(board, url)
    if rest and _UUID.match(rest[0]):
        return job_ref(FAMILY, board, rest[0])
    return None


def _jobs_url(board: str, *more: str) -> str:
    return api_url(
        get_settings().rippling_api_base, "platform", "api", "ats", "v1", "board", _slug(board), "jobs", *more
    )


def list_jobs(board: str) -> JobListing:
    url = _jobs_url(board)
    data = fetch_board_json(url, FAMILY, board)
    expect(isinstance(data, list), FAMILY, "is not a list of jobs", url)
    return JobListing(
        dedupe(
            [
                listed(
                    job.get("url"),
                    f"{board}/{job['uuid']}",
                    job.get("name"),
                    job["uuid"],
                    job_ref(FAMILY, board, str(job["uuid"])),
                )
                for job in data
                if isinstance(job, dict) and isinstance(job.get("uuid"), str) and _UUID.match(job["uuid"])
            ]
        )
    )


def _description(value) -> str | None:
    if isinstance(value, dict):  # {"company": "<p>..", "role": "<p>.."}
        return "\n".join(str(value.get(k) or "") for k in ("role", "company")) or None
    return value if isinstance(value, str) else None


def _salary(job: dict) -> tuple[float | None, float | None, str | None]:
    for pay in job.get("payRangeDetails") or []:
        if isinstance(pay, dict):
            low, high = n.salary_range(pay.get("rangeStart"), pay.get("rangeEnd"))
            return low, high, n.currency(pay.get("currency"))
    return None, None, None


def posting_from_api(job: dict, source_url: str) -> Posting:
    places = job.get("workLocations") or [text_field(job.get("workLocation"))]
    low, high, cur = _salary(job)
    return Posting(
        source_url=source_url,
        title=n.clean_text(job.get("name")),
        company=n.clean_text(job.get("companyName"), 200),
        location=n.join_locations([p for p in places if p]),
        department=n.clean_text(text_field(job.get("department")), 300),
        employment_type=n.employment_type(text_field(job.get("employmentType"))),
        workplace_type=n.workplace_type(places),
        salary_min=low,
        salary_max=high,
        salary_currency=cur,
        posted_at=n.parse_date(job.get("createdOn")),
        description=n.html_to_text(_description(job.get("description"))),
        apply_url=job.get("url") or source_url,
        external_id=str(job["uuid"]) if job.get("uuid") else None,
    )


def extract(hints: dict, source_url: str) -> Posting:
    board, job_id = required_hints(hints, FAMILY, source_url, "board", "job_id")
    data = fetch_json(_jobs_url(str(board), str(job_id)))
    if not isinstance(data, dict) or not data.get("name"):
        raise CrawlError("not_a_job_page", "rippling returned no job", url=source_url)
    return posting_from_api(data, source_url)
