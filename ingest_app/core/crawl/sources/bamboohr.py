"""bamboohr:BOARD_URL via BambooHR's careers-site endpoints: `{board}/careers/list` (title,
department, place, type) and `{board}/careers/{id}/detail` (description, date)."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlsplit

from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.http import fetch_json
from ingest_app.core.crawl.sources.common import (
    dedupe,
    expect,
    fetch_board_json,
    job_ref,
    listed,
    relative_segments,
    required_hints,
    segment_after,
    tenant_board,
    tenant_ref,
    text_field,
)
from ingest_app.core.crawl.types import CrawlError, JobListing, Posting

FAMILY = "bamboohr"
DOMAIN = "bamboohr.com"
_WORKPLACE = {"0": "onsite", "1": "remote", "2": "hybrid"}


def normalize_board(value: str) -> str:
    return tenant_board(value, DOMAIN)


def match_url(url: str) -> str | None:
    return tenant_ref(url, FAMILY, DOMAIN, www_is_vendor=True)


def job_hints(board: str, url: str) -> dict | None:
    job_id = segment_after(board, url, "careers")
    if job_id and job_id.isdigit():
        return job_ref(FAMILY, board, job_id)
    rest = relative_segments(board, url)
    if rest and rest[-1] == "view.php":  # the older /jobs/view.php?id=N links
        job_id = dict(parse_qsl(urlsplit(url).query)).get("id", "")
        if job_id.isdigit():
            return job_ref(FAMILY, board, job_id)
    return None


def list_jobs(board: str) -> JobListing:
    url = f"{board}/careers/list"
    data = fetch_board_json(url, FAMILY, board)
    expect(isinstance(data, dict) and isinstance(data.get("result"), list), FAMILY, "has no result list", url)
    return JobListing(
        dedupe(
            [
                listed(
                    None,
                    f"{board}/careers/{quote(str(job['id']), safe='')}",
                    job.get("jobOpeningName"),
                    job["id"],
                    job_ref(FAMILY, board, str(job["id"])),
                )
                for job in data["result"]
                if isinstance(job, dict) and job.get("id") is not None
            ]
        )
    )


def _location(job: dict) -> str | None:
    for key in ("location", "atsLocation"):
        place = job.get(key)
        if isinstance(place, dict):
            parts = [place.get("city"), place.get("state") or place.get("province"), place.get("country")]
            text = ", ".join(str(p) for p in parts if p)
            if text:
                return text
    return None


def posting_from_entry(job: dict, source_url: str) -> Posting:
    """A listing entry or a detail's `jobOpening` as a normalized posting."""
    workplace = _WORKPLACE.get(str(job.get("locationType")))
    if job.get("isRemote") is True:
        workplace = "remote"
    return Posting(
        source_url=source_url,
        title=n.clean_text(job.get("jobOpeningName")),
        location=n.clean_text(_location(job), 1000),
        department=n.clean_text(job.get("departmentLabel") or text_field(job.get("department")), 300),
        employment_type=n.employment_type(job.get("employmentStatusLabel")),
        workplace_type=workplace,
        posted_at=n.parse_date(job.get("datePosted")),
        description=n.html_to_text(job.get("description")),
        apply_url=job.get("jobOpeningShareUrl") or source_url,
        external_id=str(job["id"]) if job.get("id") is not None else None,
    )


def extract(hints: dict, source_url: str) -> Posting:
    board, job_id = required_hints(hints, FAMILY, source_url, "board", "job_id")
    data = fetch_json(f"{board}/careers/{quote(str(job_id), safe='')}/detail")
    result = data.get("result") if isinstance(data, dict) else None
    job = result.get("jobOpening") if isinstance(result, dict) else None
    if not isinstance(job, dict) or not job.get("jobOpeningName"):
        raise CrawlError("not_a_job_page", "bamboohr returned no job opening", url=source_url)
    job.setdefault("id", job_id)
    return posting_from_entry(job, source_url)
