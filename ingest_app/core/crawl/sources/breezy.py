"""breezy:BOARD_URL via Breezy HR's public board feed (`{board}/json`: title, place, type,
department, no description); a job's detail comes from its page's JSON-LD."""

from __future__ import annotations

from urllib.parse import quote

from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.sources.common import (
    dedupe,
    expect,
    fetch_board_json,
    job_ref,
    listed,
    posting_from_page,
    required_hints,
    segment_after,
    tenant_board,
    tenant_ref,
    text_field,
)
from ingest_app.core.crawl.types import JobListing, Posting

FAMILY = "breezy"
DOMAIN = "breezy.hr"


def normalize_board(value: str) -> str:
    return tenant_board(value, DOMAIN)


def match_url(url: str) -> str | None:
    return tenant_ref(url, FAMILY, DOMAIN)


def job_hints(board: str, url: str) -> dict | None:
    segment = segment_after(board, url, "p")
    return job_ref(FAMILY, board, segment.split("-", 1)[0]) if segment else None


def list_jobs(board: str) -> JobListing:
    url = f"{board}/json"
    data = fetch_board_json(url, FAMILY, board)
    expect(isinstance(data, list), FAMILY, "is not a list of positions", url)
    jobs = []
    for entry in data:
        if not isinstance(entry, dict) or not entry.get("id"):
            continue
        friendly = str(entry.get("friendly_id") or entry["id"])
        jobs.append(
            listed(
                entry.get("url"),
                f"{board}/p/{quote(friendly, safe='')}",
                entry.get("name"),
                entry["id"],
                job_ref(FAMILY, board, str(entry["id"])),
            )
        )
    return JobListing(dedupe(jobs))


def posting_from_entry(entry: dict, source_url: str) -> Posting:
    """A listing entry as a (partial: no description) posting."""
    location = entry.get("location") if isinstance(entry.get("location"), dict) else {}
    remote = location.get("is_remote")
    return Posting(
        source_url=source_url,
        title=n.clean_text(entry.get("name")),
        company=n.clean_text(text_field(entry.get("company")), 200),
        location=n.clean_text(location.get("name"), 1000),
        department=n.clean_text(text_field(entry.get("department")), 300),
        employment_type=n.employment_type(text_field(entry.get("type"))),
        workplace_type="remote" if remote is True else None,
        posted_at=n.parse_date(entry.get("published_date")),
        apply_url=entry.get("url") or source_url,
        external_id=str(entry["id"]) if entry.get("id") else None,
    )


def extract(hints: dict, source_url: str) -> Posting:
    required_hints(hints, FAMILY, source_url, "board")
    posting = posting_from_page(source_url)
    posting.external_id = posting.external_id or (str(hints["job_id"]) if hints.get("job_id") else None)
    return posting
