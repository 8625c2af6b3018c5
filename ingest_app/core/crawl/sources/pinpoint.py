"""pinpoint:BOARD_URL via Pinpoint's public postings feed (`{board}/postings.json`): full
descriptions and compensation in the listing, so extraction re-reads the (cached) board."""

from __future__ import annotations

from urllib.parse import quote

from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.sources.common import (
    BoardCache,
    dedupe,
    expect,
    fetch_board_json,
    job_ref,
    listed,
    required_hints,
    segment_after,
    tenant_board,
    tenant_ref,
    text_field,
    with_postings,
)
from ingest_app.core.crawl.types import CrawlError, JobListing, ListedJob, Posting

FAMILY = "pinpoint"
DOMAIN = "pinpointhq.com"
_cache = BoardCache()


def normalize_board(value: str) -> str:
    return tenant_board(value, DOMAIN)


def match_url(url: str) -> str | None:
    return tenant_ref(url, FAMILY, DOMAIN)


def job_hints(board: str, url: str) -> dict | None:
    job_id = segment_after(board, url, "postings", within=2)
    return job_ref(FAMILY, board, job_id) if job_id else None


def _fetch_board(board: str) -> dict[str, dict]:
    url = f"{board}/postings.json"
    data = fetch_board_json(url, FAMILY, board)
    expect(isinstance(data, dict) and isinstance(data.get("data"), list), FAMILY, "has no postings list", url)
    entries = {str(p["id"]): p for p in data["data"] if isinstance(p, dict) and p.get("id") is not None}
    return _cache.store(board, entries)


def _job(board: str, job_id: str, entry: dict) -> ListedJob | None:
    return listed(
        entry.get("url"),
        f"{board}/en/postings/{quote(job_id, safe='')}",
        entry.get("title"),
        job_id,
        job_ref(FAMILY, board, job_id),
    )


def _listing(board: str, entries: dict[str, dict]) -> JobListing:
    return JobListing(dedupe([_job(board, job_id, e) for job_id, e in entries.items()]))


def list_jobs(board: str) -> JobListing:
    return _listing(board, _fetch_board(board))


def listing_postings(board: str) -> tuple[JobListing, dict[str, Posting]]:
    """The listing and every listed job's posting from the same answer: no per-job request."""
    entries = _fetch_board(board)
    return with_postings(_listing(board, entries), entries, posting_from_entry)


def posting_from_entry(entry: dict, source_url: str) -> Posting:
    visible = entry.get("compensation_visible", True) is not False
    low, high = n.salary_range(entry.get("compensation_minimum"), entry.get("compensation_maximum"))
    location = entry.get("location") if isinstance(entry.get("location"), dict) else {}
    job = entry.get("job") if isinstance(entry.get("job"), dict) else {}
    sections = ("description", "key_responsibilities", "skills_knowledge_expertise", "benefits")
    return Posting(
        source_url=source_url,
        title=n.clean_text(entry.get("title")),
        location=n.clean_text(location.get("name") or location.get("city"), 1000),
        department=n.clean_text(text_field(job.get("department") or entry.get("department")), 300),
        employment_type=n.employment_type(entry.get("employment_type") or entry.get("employment_type_text")),
        workplace_type=n.workplace_type(entry.get("workplace_type") or entry.get("workplace_type_text")),
        salary_min=low if visible else None,
        salary_max=high if visible else None,
        salary_currency=n.currency(entry.get("compensation_currency")) if visible else None,
        posted_at=n.parse_date(entry.get("published_at")),
        description=n.html_to_text("\n".join(str(entry.get(k) or "") for k in sections)),
        apply_url=entry.get("url") or source_url,
        external_id=str(entry["id"]) if entry.get("id") is not None else None,
    )


def extract(hints: dict, source_url: str) -> Posting:
    if isinstance(hints.get("entry"), dict):
        return posting_from_entry(hints["entry"], source_url)
    board, job_id = required_hints(hints, FAMILY, source_url, "board", "job_id")
    entry = _cache.get(str(board), str(job_id), lambda: _fetch_board(str(board))).get(str(job_id))
    if entry is None:
        raise CrawlError("not_found", "the job is no longer on the pinpoint board", url=source_url)
    return posting_from_entry(entry, source_url)


def clear_cache() -> None:
    _cache.clear()
