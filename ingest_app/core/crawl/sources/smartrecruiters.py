"""smartrecruiters:BOARD_URL via the SmartRecruiters Posting API (`SMARTRECRUITERS_API_BASE`):
`/v1/companies/{id}/postings?limit=100&offset=N` (with `totalFound`; title, place, department,
type, date: a partial posting) and `/v1/companies/{id}/postings/{postingId}` (`jobAd.sections`).
The board is `https://jobs.smartrecruiters.com/{id}`; a job is `{board}/{postingId}[-slug]`."""

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
from ingest_app.core.crawl.types import CrawlError, JobListing, ListedJob, Posting
from ingest_app.core.settings import get_settings

FAMILY = "smartrecruiters"
HOSTS = ("jobs.smartrecruiters.com", "careers.smartrecruiters.com")
PUBLIC = "https://jobs.smartrecruiters.com"
PAGE_SIZE = 100
MAX_PAGES = 100
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def _company(board: str) -> str:
    return path_segments(board)[-1]


def normalize_board(value: str) -> str:
    value = value.strip()
    if _ID.match(value):  # a bare company identifier
        return f"{PUBLIC}/{value}"
    if host_of(value) in HOSTS:
        segments = path_segments(value)
        if not segments or not _ID.match(segments[0]):
            raise ValueError(
                "a SmartRecruiters board URL names the company, e.g. https://jobs.smartrecruiters.com/Acme"
            )
        return f"{PUBLIC}/{segments[0]}"
    board = board_base(value)
    if not path_segments(board) or not _ID.match(_company(board)):
        raise ValueError("a SmartRecruiters board URL ends with the company identifier")
    return board


def match_url(url: str) -> str | None:
    if host_of(url) not in HOSTS:
        return None
    return board_ref(FAMILY, normalize_board, url)


def job_hints(board: str, url: str) -> dict | None:
    rest = relative_segments(board, url)
    if rest is None and host_of(url) in HOSTS:  # careers.smartrecruiters.com or another case
        segments = path_segments(url)
        rest = segments[1:] if segments and segments[0].lower() == _company(board).lower() else None
    if rest:
        posting_id = rest[0].split("-", 1)[0]
        if posting_id.isdigit():
            return job_ref(FAMILY, board, posting_id)
    return None


def _postings_url(board: str, *more: str) -> str:
    return api_url(get_settings().smartrecruiters_api_base, "v1", "companies", _company(board), "postings", *more)


def _entries(board: str) -> tuple[list[dict], str | None]:
    """Every posting, paged by what each answer holds (a server may cap `limit` below ours)."""
    entries: list[dict] = []
    offset = 0
    for _ in range(MAX_PAGES):
        url = _postings_url(board) + f"?limit={PAGE_SIZE}&offset={offset}"
        data = fetch_board_json(url, FAMILY, board)
        expect(isinstance(data, dict) and isinstance(data.get("content"), list), FAMILY, "has no content list", url)
        entries.extend(p for p in data["content"] if isinstance(p, dict) and p.get("id"))
        offset += len(data["content"])
        total = data.get("totalFound") if isinstance(data.get("totalFound"), int) else 0
        if not data["content"] or offset >= total:
            return entries, None
    return entries, f"the smartrecruiters board has more than {MAX_PAGES} pages; listed the first {MAX_PAGES}"


def _job(board: str, entry: dict) -> ListedJob | None:
    url = f"{board}/{entry['id']}"
    return listed(url, url, entry.get("name"), entry["id"], job_ref(FAMILY, board, str(entry["id"])))


def list_jobs(board: str) -> JobListing:
    entries, incomplete = _entries(board)
    listing = JobListing(dedupe([_job(board, e) for e in entries if e.get("visibility", "PUBLIC") == "PUBLIC"]))
    listing.incomplete = incomplete
    return listing


def listing_postings(board: str) -> tuple[JobListing, dict[str, Posting]]:
    """The listing and no posting: a listing entry lacks the description the detail adds, so no
    listed job's posting is complete without its own request."""
    return list_jobs(board), {}


def partial_postings(board: str) -> list[tuple[ListedJob, Posting]]:
    """What the listing states of each job (title, place, department, type, date; no description)."""
    pairs = []
    for entry in _entries(board)[0]:
        job = _job(board, entry)
        if job is not None:
            pairs.append((job, posting_from_entry(entry, job.url)))
    return pairs


def _location(location: dict) -> str | None:
    if location.get("fullLocation"):
        return location["fullLocation"]
    parts = [location.get("city"), location.get("region"), (location.get("country") or "").upper() or None]
    return ", ".join(str(p) for p in parts if p) or None


def posting_from_entry(entry: dict, source_url: str) -> Posting:
    """A listing entry (no description) or a single-posting answer (with `jobAd`)."""
    location = entry.get("location") if isinstance(entry.get("location"), dict) else {}
    workplace = "hybrid" if location.get("hybrid") else "remote" if location.get("remote") else None
    if workplace is None and location.get("remote") is False and location.get("hybrid") is False:
        workplace = "onsite"
    job_ad = entry.get("jobAd") if isinstance(entry.get("jobAd"), dict) else {}
    sections = job_ad.get("sections") if isinstance(job_ad.get("sections"), dict) else {}
    description = "\n".join(
        f"<h3>{s.get('title') or ''}</h3>{s.get('text') or ''}"
        for key in ("jobDescription", "qualifications", "additionalInformation")
        if isinstance(s := sections.get(key), dict) and s.get("text")
    )
    return Posting(
        source_url=source_url,
        title=n.clean_text(entry.get("name")),
        company=n.clean_text(text_field(entry.get("company")), 200),
        location=n.clean_text(_location(location), 1000),
        department=n.clean_text(text_field(entry.get("department")) or text_field(entry.get("function")), 300),
        employment_type=n.employment_type(text_field(entry.get("typeOfEmployment"))),
        workplace_type=workplace,
        posted_at=n.parse_date(entry.get("releasedDate")),
        description=n.html_to_text(description) if description else None,
        apply_url=entry.get("applyUrl") or entry.get("postingUrl") or source_url,
        external_id=str(entry["id"]) if entry.get("id") else None,
    )


def extract(hints: dict, source_url: str) -> Posting:
    board, job_id = required_hints(hints, FAMILY, source_url, "board", "job_id")
    data = fetch_json(_postings_url(str(board), str(job_id)))
    if not isinstance(data, dict) or not data.get("name"):
        raise CrawlError("not_a_job_page", "smartrecruiters returned no posting", url=source_url)
    return posting_from_entry(data, source_url)
