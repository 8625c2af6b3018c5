"""teamtailor:BOARD_URL via Teamtailor's public RSS feed (`{board}/jobs.rss`, a `tt:` namespace
for department and locations, paged by `offset`; parsed with defusedxml). Items carry the full
description, so extraction re-reads the (cached) feed; a job missing from it falls back to the
job page's JSON-LD."""

from __future__ import annotations

import email.utils

from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.http import fetch
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
from ingest_app.core.crawl.urls import canonicalize_url

FAMILY = "teamtailor"
DOMAIN = "teamtailor.com"
MAX_PAGES = 50
_cache = BoardCache()
_REMOTE = {"fully": "remote", "temporary": "remote", "hybrid": "hybrid", "none": "onsite"}


def normalize_board(value: str) -> str:
    return tenant_board(value, DOMAIN)


def match_url(url: str) -> str | None:
    return tenant_ref(url, FAMILY, DOMAIN, www_is_vendor=True)


def _job_id(segment: str) -> str | None:
    head = segment.split("-", 1)[0]
    return head if head.isdigit() else None


def job_hints(board: str, url: str) -> dict | None:
    rest = relative_segments(board, url)
    if rest and len(rest) >= 2 and rest[0] == "jobs" and (job_id := _job_id(rest[1])):
        return job_ref(FAMILY, board, job_id)
    return None


def _item(item) -> dict:
    entry = {name: child_text(item, name) for name in ("title", "link", "guid", "description", "pubDate")}
    for name in ("department", "role", "remoteStatus", "employmentType"):
        entry[name] = child_text(item, name)
    entry["locations"] = [
        {key: child_text(loc, key) for key in ("name", "city", "country")}
        for block in children(item, "locations")
        for loc in children(block, "location")
    ]
    return entry


def _fetch_feed(board: str) -> tuple[dict[str, dict], str | None]:
    entries: dict[str, dict] = {}
    for page in range(MAX_PAGES):
        url = f"{board}/jobs.rss" + (f"?offset={len(entries)}" if page else "")
        try:
            result = fetch(url, accept=None)
        except CrawlError as err:
            raise board_error(err, FAMILY, board) from None
        root = parse_xml(result.text, FAMILY, url)
        channel = next((c for c in root if local_name(c.tag) == "channel"), None)
        if local_name(root.tag) != "rss" or channel is None:
            raise CrawlError("parse_error", "the teamtailor feed is not an RSS channel", url=url)
        new = 0
        for item in children(channel, "item"):
            entry = _item(item)
            try:
                link = canonicalize_url(entry.get("link") or "")
            except CrawlError:
                continue
            job_id = _job_id((link.rstrip("/").rsplit("/", 1) + [""])[1]) or entry.get("guid")
            if job_id and job_id not in entries:
                entries[job_id] = entry | {"id": job_id, "link": link}
                new += 1
        if not new:
            break
    else:
        _cache.store(board, entries)
        return entries, f"the teamtailor feed has more than {MAX_PAGES} pages; listed the first {MAX_PAGES}"
    return _cache.store(board, entries), None


def _job(board: str, entry: dict) -> ListedJob | None:
    return listed(
        entry["link"],
        entry["link"],
        entry.get("title"),
        entry["id"],
        job_ref(FAMILY, board, entry["id"]),
    )


def _read(board: str) -> tuple[JobListing, dict[str, dict]]:
    entries, incomplete = _fetch_feed(board)
    listing = JobListing(dedupe([_job(board, e) for e in entries.values()]))
    listing.incomplete = incomplete
    return listing, entries


def list_jobs(board: str) -> JobListing:
    return _read(board)[0]


def listing_postings(board: str) -> tuple[JobListing, dict[str, Posting]]:
    """The listing (incomplete when the feed has more pages than are read) and every listed
    item's full posting, from the same feed pages."""
    listing, entries = _read(board)
    return with_postings(listing, entries, posting_from_entry)


def _date(value: str | None):
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).date()
    except (TypeError, ValueError):
        return n.parse_date(value)


def posting_from_entry(entry: dict, source_url: str) -> Posting:
    places = [
        loc.get("name") or ", ".join(p for p in (loc.get("city"), loc.get("country")) if p)
        for loc in entry.get("locations") or []
    ]
    return Posting(
        source_url=source_url,
        title=n.clean_text(entry.get("title")),
        location=n.join_locations([p for p in places if p]),
        department=n.clean_text(entry.get("department"), 300),
        employment_type=n.employment_type(entry.get("employmentType")),
        workplace_type=_REMOTE.get((entry.get("remoteStatus") or "").lower())
        or n.workplace_type(entry.get("remoteStatus")),
        posted_at=_date(entry.get("pubDate")),
        description=n.html_to_text(entry.get("description")),
        apply_url=entry.get("link") or source_url,
        external_id=entry.get("id"),
    )


def extract(hints: dict, source_url: str) -> Posting:
    if isinstance(hints.get("entry"), dict):
        return posting_from_entry(hints["entry"], source_url)
    board, job_id = required_hints(hints, FAMILY, source_url, "board", "job_id")
    entry = _cache.get(str(board), str(job_id), lambda: _fetch_feed(str(board))[0]).get(str(job_id))
    if entry is None:
        return posting_from_page(source_url)  # not in the feed (yet): the page has JSON-LD
    return posting_from_entry(entry, source_url)


def clear_cache() -> None:
    _cache.clear()
