"""workday:BOARD_URL via the Workday candidate-experience API of the board's host:
`POST {origin}/wday/cxs/{tenant}/{site}/jobs` (20 per page; the total comes with the first page;
past 2,000 results a query is split by one facet) and `GET .../job/...` for the detail.

Board URLs: `https://{tenant}.wdN.myworkdayjobs.com[/{locale}]/{site}`, or any host with a path
ending `/{tenant}/{site}` (`https://wdN.myworkdaysite.com/recruiting/{tenant}/{site}`, a local
server). A job's URL is the board URL followed by the posting's `externalPath`."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.http import fetch_json
from ingest_app.core.crawl.sources.common import (
    board_error,
    board_ref,
    dedupe,
    expect,
    host_of,
    listed,
    path_segments,
    post_json,
    posting_from_page,
    relative_segments,
)
from ingest_app.core.crawl.types import CrawlError, JobListing, Posting
from ingest_app.core.crawl.urls import canonicalize_url

FAMILY = "workday"
DOMAIN = "myworkdayjobs.com"
PAGE_SIZE = 20
QUERY_CAP = 2000  # Workday answers at most this many results per query
MAX_REQUESTS = 1000
_LOCALE = re.compile(r"^[a-z]{2}(?:-[A-Za-z]{2,4})?$")
_SEGMENT = re.compile(r"^[A-Za-z0-9_.~-]{1,100}$")


def _split(url: str) -> tuple[str, str, str, list[str]]:
    """(board URL, tenant, site, segments after the site) of a Workday board or job URL."""
    canonical = canonicalize_url(url)
    parts = urlsplit(canonical)
    origin = f"{parts.scheme}://{parts.netloc}"
    segments = path_segments(canonical)
    host = (parts.hostname or "").lower()
    if host.endswith("." + DOMAIN):
        if segments and _LOCALE.match(segments[0]) and len(segments) > 1:
            segments = segments[1:]
        if not segments:
            raise ValueError("a Workday board URL names its site, e.g. https://acme.wd5.myworkdayjobs.com/External")
        tenant, site, rest, prefix = host.split(".", 1)[0], segments[0], segments[1:], []
    else:
        cut = segments.index("job") if "job" in segments else len(segments)
        head, rest = segments[:cut], segments[cut:]
        if head and _LOCALE.match(head[0]) and len(head) > 2:
            head = head[1:]
        if len(head) < 2:
            raise ValueError(
                "a Workday board URL ends with /TENANT/SITE, e.g. https://wd3.myworkdaysite.com/recruiting/acme/External"
            )
        prefix, tenant, site = head[:-2], head[-2], head[-1]
    for name in (tenant, site):
        if not _SEGMENT.match(name):
            raise ValueError(f"{name!r} is not a Workday tenant or site name")
    board = origin + "".join("/" + quote(s, safe="") for s in [*prefix, tenant, site])
    if host.endswith("." + DOMAIN):
        board = f"{origin}/{quote(site, safe='')}"
    return board, tenant, site, rest


def normalize_board(value: str) -> str:
    try:
        return _split(value)[0]
    except CrawlError as err:
        raise ValueError(err.reason) from None


def match_url(url: str) -> str | None:
    host = host_of(url)
    if not (host.endswith("." + DOMAIN) or host.endswith(".myworkdaysite.com")):
        return None
    return board_ref(FAMILY, lambda value: _split(value)[0], url)


def job_hints(board: str, url: str) -> dict | None:
    rest = relative_segments(board, url)
    if rest is None and host_of(url).endswith("." + DOMAIN):  # a locale prefix before the site
        try:
            found, _, _, segments = _split(url)
        except (ValueError, CrawlError):
            return None
        rest = segments if found == board else None
    if rest and rest[0] == "job" and len(rest) >= 2:
        return {"source": FAMILY, "board": board, "path": "/" + "/".join(quote(s, safe="") for s in rest)}
    return None


def _api(board: str) -> str:
    _, tenant, site, _ = _split(board)
    parts = urlsplit(board)
    return f"{parts.scheme}://{parts.netloc}/wday/cxs/{quote(tenant, safe='')}/{quote(site, safe='')}"


class _Pager:
    def __init__(self, board: str):
        self.board = board
        self.url = _api(board) + "/jobs"
        self.requests = 0
        self.postings: list[dict] = []

    def page(self, offset: int, facets: dict) -> dict:
        if self.requests >= MAX_REQUESTS:
            raise _TooMany
        self.requests += 1
        body = {"appliedFacets": facets, "limit": PAGE_SIZE, "offset": offset, "searchText": ""}
        try:
            data = post_json(self.url, body)
        except CrawlError as err:
            raise board_error(err, FAMILY, self.board) from None
        expect(
            isinstance(data, dict) and isinstance(data.get("jobPostings"), list), FAMILY, "has no jobPostings", self.url
        )
        return data

    def query(self, facets: dict, first: dict | None = None) -> int:
        """Collect every posting of one query (up to the cap); the query's total. The total
        comes with the first page only (later pages say 0)."""
        first = first or self.page(0, facets)
        total = first.get("total") if isinstance(first.get("total"), int) else 0
        self.postings.extend(first["jobPostings"])
        offset = len(first["jobPostings"])
        while offset < min(total, QUERY_CAP) and first["jobPostings"]:
            data = self.page(offset, facets)
            if not data["jobPostings"]:
                break
            self.postings.extend(data["jobPostings"])
            offset += len(data["jobPostings"])
        return total


class _TooMany(Exception):
    pass


def _split_facet(first: dict) -> tuple[str, list[str]] | None:
    """A facet whose every value stays under the cap: query each value on its own."""
    for facet in first.get("facets") or []:
        if not isinstance(facet, dict) or not facet.get("facetParameter"):
            continue
        values = [v for v in facet.get("values") or [] if isinstance(v, dict) and v.get("id")]
        if values and all(isinstance(v.get("count"), int) and v["count"] < QUERY_CAP for v in values):
            return str(facet["facetParameter"]), [str(v["id"]) for v in values]
    return None


def list_jobs(board: str) -> JobListing:
    pager = _Pager(board)
    incomplete = None
    try:
        first = pager.page(0, {})
        total = pager.query({}, first)
        if total > QUERY_CAP:
            split = _split_facet(first)
            if split is None:
                incomplete = f"the workday board lists {total} jobs and answers at most {QUERY_CAP} per query"
            else:
                name, values = split
                for value in values:
                    pager.query({name: [value]})
    except _TooMany:
        incomplete = f"the workday board needs more than {MAX_REQUESTS} requests to list"
    jobs = []
    for posting in pager.postings:
        path = posting.get("externalPath") if isinstance(posting, dict) else None
        if not isinstance(path, str) or not path.startswith("/job/"):
            continue
        jobs.append(
            listed(
                board + path,
                board + path,
                posting.get("title"),
                _req_id(posting),
                {"source": FAMILY, "board": board, "path": path},
            )
        )
    listing = JobListing(dedupe(jobs))
    listing.incomplete = incomplete
    return listing


def _req_id(posting: dict) -> str | None:
    fields = posting.get("bulletFields")
    return str(fields[0]) if isinstance(fields, list) and fields else None


def posting_from_api(data: dict, source_url: str) -> Posting:
    info = data.get("jobPostingInfo") if isinstance(data.get("jobPostingInfo"), dict) else {}
    org = data.get("hiringOrganization") if isinstance(data.get("hiringOrganization"), dict) else {}
    locations = [info.get("location"), *(info.get("additionalLocations") or [])]
    return Posting(
        source_url=source_url,
        title=n.clean_text(info.get("title")),
        company=n.clean_text(org.get("name"), 200),
        location=n.join_locations([loc for loc in locations if loc]),
        employment_type=n.employment_type(info.get("timeType")),
        workplace_type=n.workplace_type(info.get("remoteType")),
        posted_at=n.parse_date(info.get("startDate")),
        description=n.html_to_text(info.get("jobDescription")),
        apply_url=info.get("externalUrl") or source_url,
        external_id=n.clean_text(info.get("jobReqId"), 100),
    )


def extract(hints: dict, source_url: str) -> Posting:
    board, path = hints.get("board"), hints.get("path")
    if not board or not isinstance(path, str) or not path.startswith("/job/"):
        raise CrawlError("parse_error", "workday hints need board and a /job/ path", url=source_url)
    try:
        data = fetch_json(_api(str(board)) + path)
    except CrawlError as err:
        if err.status != 403:
            raise
        # 403: delisted (error S22) or a tenant that blocks detail calls; the job page tells which.
        try:
            return posting_from_page(source_url)
        except CrawlError as page_err:
            if page_err.kind in ("not_found", "gone", "not_a_job_page"):
                raise CrawlError("gone", "workday no longer publishes this job (HTTP 403)", url=source_url) from None
            raise
    if not isinstance(data, dict) or not isinstance(data.get("jobPostingInfo"), dict):
        raise CrawlError("not_a_job_page", "workday returned no job posting", url=source_url)
    return posting_from_api(data, source_url)
