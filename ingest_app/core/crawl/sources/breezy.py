"""breezy:BOARD_URL via Breezy HR's public board feed (`{board}/json`: title, place, type,
department, no description); a job's detail comes from its page's JSON-LD."""

from __future__ import annotations

from urllib.parse import quote

from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.http import fetch_json
from ingest_app.core.crawl.sources.common import (
    board_base,
    board_error,
    dedupe,
    expect,
    listed,
    posting_from_page,
    relative_segments,
    tenant_origin,
    text_field,
)
from ingest_app.core.crawl.types import CrawlError, JobListing, Posting

FAMILY = "breezy"
DOMAIN = "breezy.hr"


def normalize_board(value: str) -> str:
    return tenant_origin(value, DOMAIN) or board_base(value)


def match_url(url: str) -> str | None:
    origin = tenant_origin(url, DOMAIN)
    return f"{FAMILY}:{origin}" if origin else None


def job_hints(board: str, url: str) -> dict | None:
    rest = relative_segments(board, url)
    if rest and len(rest) >= 2 and rest[0] == "p":
        return {"source": FAMILY, "board": board, "job_id": rest[1].split("-", 1)[0]}
    return None


def list_jobs(board: str) -> JobListing:
    url = f"{board}/json"
    try:
        data = fetch_json(url)
    except CrawlError as err:
        raise board_error(err, FAMILY, board) from None
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
                {"source": FAMILY, "board": board, "job_id": str(entry["id"])},
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
    if not hints.get("board"):
        raise CrawlError("parse_error", "breezy hints need board", url=source_url)
    posting = posting_from_page(source_url)
    posting.external_id = posting.external_id or (str(hints["job_id"]) if hints.get("job_id") else None)
    return posting
