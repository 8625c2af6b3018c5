"""workable:BOARD_URL via Workable's careers-site API (`WORKABLE_API_BASE`):
`POST /api/v3/accounts/{slug}/jobs` (paged by `nextPage`) and `GET /api/v2/accounts/{slug}/jobs/
{shortcode}` for the detail. An account whose API refuses us (HTTP 401/403/405) is read from its
public widget feed instead (`/api/v1/widget/accounts/{slug}?details=true`, full postings).
The board is `https://apply.workable.com/{slug}/`; a job is `{board}j/{shortcode}/`."""

from __future__ import annotations

import re

from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.http import fetch_json
from ingest_app.core.crawl.sources.common import (
    BoardCache,
    api_url,
    board_base,
    board_error,
    board_ref,
    dedupe,
    expect,
    fetch_board_json,
    host_of,
    job_ref,
    listed,
    on_domain,
    path_segments,
    post_json,
    relative_segments,
    text_field,
    with_postings,
)
from ingest_app.core.crawl.types import CrawlError, JobListing, ListedJob, Posting
from ingest_app.core.settings import get_settings

FAMILY = "workable"
HOST = "apply.workable.com"
MAX_PAGES = 100
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_SHORTCODE = re.compile(r"^[A-Za-z0-9]{4,20}$")
_REFUSED = (401, 403, 405)
_QUERY = {"query": "", "department": [], "location": [], "remote": [], "workplace": [], "worktype": []}
_widgets = BoardCache()
_TYPES = {"full": "full_time", "part": "part_time", "contract": "contract", "temporary": "temporary"}


def _slug(board: str) -> str:
    return path_segments(board)[-1]


def normalize_board(value: str) -> str:
    value = value.strip()
    host = host_of(value)
    if _SLUG.match(value) and "." not in value:
        return f"https://{HOST}/{value}/"
    if host == HOST:
        segments = path_segments(value)
        if not segments or not _SLUG.match(segments[0]) or segments[0] in ("api", "j"):
            raise ValueError("a Workable board URL names the account, e.g. https://apply.workable.com/acme/")
        return f"https://{HOST}/{segments[0]}/"
    if on_domain(host, "workable.com") and host not in ("www.workable.com", HOST):  # acme.workable.com
        return f"https://{HOST}/{host.split('.', 1)[0]}/"
    board = board_base(value)
    if not path_segments(board) or not _SLUG.match(_slug(board)):
        raise ValueError("a Workable board URL ends with the account name")
    return board + "/"


def match_url(url: str) -> str | None:
    host = host_of(url)
    if host != HOST and not (on_domain(host, "workable.com") and host != "www.workable.com"):
        return None
    return board_ref(FAMILY, normalize_board, url)


def job_hints(board: str, url: str) -> dict | None:
    rest = relative_segments(board, url)
    if rest and len(rest) >= 2 and rest[0] == "j" and _SHORTCODE.match(rest[1]):
        return job_ref(FAMILY, board, rest[1])
    return None


def _api(board: str, version: str, *more: str) -> str:
    return api_url(get_settings().workable_api_base, "api", version, "accounts", _slug(board), *more)


def _job_url(board: str, shortcode: str) -> str:
    return f"{board}j/{shortcode}/"


def _v3_entries(board: str) -> tuple[list[dict], str | None]:
    url = _api(board, "v3", "jobs")
    entries: list[dict] = []
    body: dict = dict(_QUERY)
    for _ in range(MAX_PAGES):
        data = post_json(url, body)
        expect(isinstance(data, dict) and isinstance(data.get("results"), list), FAMILY, "has no results list", url)
        entries.extend(j for j in data["results"] if isinstance(j, dict) and j.get("shortcode"))
        token = data.get("nextPage")
        if not token or not data["results"]:
            return entries, None
        body = dict(_QUERY, token=token)
    return entries, f"the workable board has more than {MAX_PAGES} pages; listed the first {MAX_PAGES}"


def _widget(board: str) -> dict[str, dict]:
    url = api_url(get_settings().workable_api_base, "api", "v1", "widget", "accounts", _slug(board)) + "?details=true"
    data = fetch_board_json(url, FAMILY, board)
    expect(isinstance(data, dict) and isinstance(data.get("jobs"), list), FAMILY, "widget has no jobs list", url)
    return _widgets.store(
        board, {str(j["shortcode"]): j for j in data["jobs"] if isinstance(j, dict) and j.get("shortcode")}
    )


def _entries(board: str) -> tuple[list[dict], bool, str | None]:
    """The board's jobs, whether they came from the widget (full postings), why it may be incomplete."""
    try:
        entries, incomplete = _v3_entries(board)
        return entries, False, incomplete
    except CrawlError as err:
        if err.status in _REFUSED:
            return list(_widget(board).values()), True, None
        raise board_error(err, FAMILY, board) from None


def _job(board: str, entry: dict, widget: bool) -> ListedJob | None:
    code = str(entry["shortcode"])
    hints = job_ref(FAMILY, board, code) | ({"widget": True} if widget else {})
    return listed(_job_url(board, code), _job_url(board, code), entry.get("title"), code, hints)


def _read(board: str) -> tuple[JobListing, dict[str, dict]]:
    """The listing and, when it was read from the widget feed, its entries (full postings; a v3
    entry has no description, which the v2 detail adds)."""
    entries, widget, incomplete = _entries(board)
    listing = JobListing(
        dedupe([_job(board, e, widget) for e in entries if widget or e.get("state") in (None, "published")])
    )
    listing.incomplete = incomplete
    return listing, ({str(e["shortcode"]): e for e in entries} if widget else {})


def list_jobs(board: str) -> JobListing:
    return _read(board)[0]


def listing_postings(board: str) -> tuple[JobListing, dict[str, Posting]]:
    """The listing, with full postings when it was read from the widget feed (none from v3)."""
    listing, entries = _read(board)
    return with_postings(listing, entries, posting_from_entry)


def _location(entry: dict) -> str | None:
    places = entry.get("locations") or [entry.get("location")]
    texts = []
    for place in places:
        if isinstance(place, dict):
            texts.append(", ".join(str(place[k]) for k in ("city", "region", "country") if place.get(k)))
    if not any(texts):
        texts = [", ".join(str(entry[k]) for k in ("city", "state", "country") if entry.get(k))]
    return n.join_locations([t for t in texts if t])


def _workplace(entry: dict) -> str | None:
    found = n.workplace_type(entry.get("workplace"))
    if found:
        return found
    if entry.get("remote") is True or entry.get("telecommuting") is True:
        return "remote"
    return None


def posting_from_entry(entry: dict, source_url: str) -> Posting:
    """A v2 detail, a widget entry (full) or a v3 listing entry (no description)."""
    description = "\n".join(str(entry.get(k) or "") for k in ("description", "requirements", "benefits")).strip()
    return Posting(
        source_url=source_url,
        title=n.clean_text(entry.get("title")),
        location=_location(entry),
        department=n.clean_text(text_field(entry.get("department")), 300),
        employment_type=n.employment_type(entry.get("employment_type"))
        or _TYPES.get(str(entry.get("type")))
        or n.employment_type(entry.get("type")),
        workplace_type=_workplace(entry),
        posted_at=n.parse_date(entry.get("published") or entry.get("published_on") or entry.get("created_at")),
        description=n.html_to_text(description) if description else None,
        apply_url=entry.get("application_url") or source_url,
        external_id=str(entry.get("shortcode")) if entry.get("shortcode") else None,
    )


def extract(hints: dict, source_url: str) -> Posting:
    if isinstance(hints.get("entry"), dict):
        return posting_from_entry(hints["entry"], source_url)
    board, code = hints.get("board"), hints.get("job_id")
    if not board or not code:
        raise CrawlError("parse_error", "workable hints need board and job_id", url=source_url)
    board, code = str(board), str(code)
    if not hints.get("widget"):
        try:
            data = fetch_json(_api(board, "v2", "jobs", code))
        except CrawlError as err:
            if err.status not in _REFUSED:
                raise
        else:
            if not isinstance(data, dict) or not data.get("title"):
                raise CrawlError("not_a_job_page", "workable returned no job", url=source_url)
            return posting_from_entry(data, source_url)
    entry = _widgets.get(board, code, lambda: _widget(board)).get(code)
    if entry is None:
        raise CrawlError("not_found", "the job is no longer on the workable board", url=source_url)
    return posting_from_entry(entry, source_url)


def clear_cache() -> None:
    _widgets.clear()
