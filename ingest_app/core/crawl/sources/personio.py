"""personio:BOARD_URL via Personio's public XML feed (`{board}/xml?language=en`, parsed with
defusedxml), which carries full descriptions. A tenant without a feed falls back to its HTML job
pages: the board page lists `/job/{id}` links and each page's structured data is the posting."""

from __future__ import annotations

from urllib.parse import quote

from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.http import fetch
from ingest_app.core.crawl.sources import careers
from ingest_app.core.crawl.sources.common import (
    BoardCache,
    board_error,
    child_text,
    children,
    dedupe,
    job_ref,
    listed,
    local_name,
    parse_xml,
    posting_from_page,
    relative_segments,
    required_hints,
    tenant_board,
    tenant_ref,
    with_postings,
)
from ingest_app.core.crawl.types import CrawlError, JobListing, ListedJob, Posting

FAMILY = "personio"
DOMAINS = ("jobs.personio.de", "jobs.personio.com")
_cache = BoardCache()
_EMPLOYMENT = {"intern": "internship", "trainee": "internship", "freelance": "contract", "temporary": "temporary"}


def normalize_board(value: str) -> str:
    return tenant_board(value, *DOMAINS)


def match_url(url: str) -> str | None:
    return tenant_ref(url, FAMILY, *DOMAINS)


def job_hints(board: str, url: str) -> dict | None:
    rest = relative_segments(board, url)
    if rest and len(rest) >= 2 and rest[0] == "job" and rest[1].isdigit():
        return job_ref(FAMILY, board, rest[1])
    return None


class _NoFeed(Exception):
    pass


def _fetch_feed(board: str) -> dict[str, dict]:
    url = f"{board}/xml?language=en"
    try:
        result = fetch(url, accept=None)
    except CrawlError as err:
        if err.kind in ("not_found", "gone"):
            raise _NoFeed from None
        raise
    if result.media_type in ("text/html", "application/xhtml+xml"):
        raise _NoFeed  # the tenant answers its careers page instead of a feed
    root = parse_xml(result.text, FAMILY, url)
    if local_name(root.tag) != "workzag-jobs":
        raise CrawlError("parse_error", "the personio feed is not a <workzag-jobs> document", url=url)
    entries = {}
    for position in children(root, "position"):
        entry = _entry(position)
        if entry.get("id"):
            entries[entry["id"]] = entry
    return _cache.store(board, entries)


def _entry(position) -> dict:
    """One <position> as a plain dict (the shape `posting_from_entry` reads; fits in hints)."""
    entry = {
        name: child_text(position, name)
        for name in (
            "id",
            "subcompany",
            "office",
            "department",
            "recruitingCategory",
            "name",
            "employmentType",
            "seniority",
            "schedule",
            "createdAt",
        )
    }
    entry["additionalOffices"] = [
        (o.text or "").strip() for extra in children(position, "additionalOffices") for o in children(extra, "office")
    ]
    entry["jobDescriptions"] = [
        {"name": child_text(d, "name"), "value": child_text(d, "value")}
        for block in children(position, "jobDescriptions")
        for d in children(block, "jobDescription")
    ]
    return entry


def _job(board: str, entry: dict) -> ListedJob | None:
    url = f"{board}/job/{quote(entry['id'], safe='')}"
    return listed(url, url, entry.get("name"), entry["id"], job_ref(FAMILY, board, entry["id"]))


def _read(board: str) -> tuple[JobListing, dict[str, dict]]:
    """The listing and the feed entries it was read from (none when the tenant has no feed and
    its job pages are listed instead)."""
    try:
        entries = _fetch_feed(board)
    except _NoFeed:
        return _list_pages(board), {}
    return JobListing(dedupe([_job(board, e) for e in entries.values()])), entries


def list_jobs(board: str) -> JobListing:
    return _read(board)[0]


def _list_pages(board: str) -> JobListing:
    try:
        found = careers.list_jobs(board + "/")
    except CrawlError as err:
        raise board_error(err, FAMILY, board) from None
    jobs = JobListing()
    for job in found:
        hints = job_hints(board, job.url)
        if hints:
            jobs.append(
                ListedJob(url=job.url, title=job.title, external_id=hints["job_id"], hints=hints | {"page": True})
            )
    jobs.incomplete = getattr(found, "incomplete", None)
    return jobs


def listing_postings(board: str) -> tuple[JobListing, dict[str, Posting]]:
    """The listing and the feed's full postings; a tenant without a feed lists its job pages,
    which carry no posting (each page is read per job)."""
    listing, entries = _read(board)
    return with_postings(listing, entries, posting_from_entry)


def _employment(entry: dict) -> str | None:
    kind = (entry.get("employmentType") or "").strip().lower()
    return _EMPLOYMENT.get(kind) or n.employment_type(entry.get("schedule")) or n.employment_type(kind)


def posting_from_entry(entry: dict, source_url: str) -> Posting:
    description = "\n".join(
        f"<h3>{d.get('name') or ''}</h3>{d.get('value') or ''}" for d in entry.get("jobDescriptions") or []
    )
    offices = [entry.get("office"), *(entry.get("additionalOffices") or [])]
    return Posting(
        source_url=source_url,
        title=n.clean_text(entry.get("name")),
        company=n.clean_text(entry.get("subcompany"), 200),
        location=n.join_locations([o for o in offices if o]),
        department=n.clean_text(entry.get("department"), 300),
        employment_type=_employment(entry),
        posted_at=n.parse_date(entry.get("createdAt")),
        description=n.html_to_text(description),
        apply_url=source_url,
        external_id=entry.get("id"),
    )


def extract(hints: dict, source_url: str) -> Posting:
    if isinstance(hints.get("entry"), dict):
        return posting_from_entry(hints["entry"], source_url)
    board, job_id = required_hints(hints, FAMILY, source_url, "board", "job_id")
    if hints.get("page"):
        return posting_from_page(source_url)
    try:
        entry = _cache.get(str(board), str(job_id), lambda: _fetch_feed(str(board))).get(str(job_id))
    except _NoFeed:
        return posting_from_page(source_url)
    if entry is None:
        raise CrawlError("not_found", "the job is no longer in the personio feed", url=source_url)
    return posting_from_entry(entry, source_url)


def clear_cache() -> None:
    _cache.clear()
