"""Helpers shared by the ATS sources."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from ingest_app.core.crawl import http as _http
from ingest_app.core.crawl.extract import extract_from_html
from ingest_app.core.crawl.types import CrawlError, JobListing, ListedJob, Posting
from ingest_app.core.crawl.urls import canonicalize_url
from ingest_app.core.settings import get_settings

SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")  # a board token, site or organization name


def api_url(base: str, *parts: str) -> str:
    return base.rstrip("/") + "/" + "/".join(quote(str(p), safe="") for p in parts)


def listed(url: str | None, fallback: str, title, external_id, hints: dict) -> ListedJob | None:
    try:
        canonical = canonicalize_url(url or fallback)
    except CrawlError:
        return None
    return ListedJob(
        url=canonical,
        title=(str(title).strip()[:500] or None) if title else None,
        external_id=str(external_id) if external_id is not None else None,
        hints=hints,
    )


def dedupe(jobs: list[ListedJob | None]) -> list[ListedJob]:
    seen: dict[str, ListedJob] = {}
    for job in jobs:
        if job is not None and job.url not in seen:
            seen[job.url] = job
    return list(seen.values())


def with_postings(
    listing: list[ListedJob], entries: Mapping[str, dict], posting_of: Callable[[dict, str], Posting]
) -> tuple[JobListing, dict[str, Posting]]:
    """`listing_postings` of a family: the listing exactly as `list_jobs` builds it (same jobs,
    same `incomplete`) and the posting of each listed job whose entry (found by its `job_id` hint)
    the same answer carried, so no job is listed differently for carrying a posting."""
    jobs = listing if isinstance(listing, JobListing) else JobListing(listing)
    postings = {}
    for job in jobs:
        entry = entries.get(str(job.hints.get("job_id")))
        if entry is not None:
            postings[job.url] = posting_of(entry, job.url)
    return jobs, postings


def board_not_found(err: CrawlError, kind: str, name: str) -> CrawlError:
    if err.kind in ("not_found", "gone"):
        return CrawlError("not_found", f"no {kind} board named {name!r}", url=err.url, status=err.status)
    return err


# ----- helpers for the board-URL families ----------------------------------------------------------


def board_base(board_url: str) -> str:
    """The board URL without query, fragment or trailing slash: endpoints of host-per-tenant
    families hang below it (`https://acme.recruitee.com` + `/api/offers`)."""
    parts = urlsplit(canonicalize_url(board_url))
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def path_segments(url: str) -> list[str]:
    return [unquote(s) for s in urlsplit(url).path.split("/") if s]


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def on_domain(host: str, domain: str) -> bool:
    """`host` is a subdomain of `domain` (a tenant host such as acme.recruitee.com)."""
    return host.endswith("." + domain) and host.count(".") == domain.count(".") + 1


def tenant_origin(url: str, domain: str) -> str | None:
    """`https://acme.recruitee.com` for any URL on a tenant host of `domain`, else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not on_domain(host, domain):
        return None
    return f"https://{host}"


def relative_segments(board: str, url: str) -> list[str] | None:
    """The path segments of `url` below the board (same host, path under the board's), else None."""
    try:
        b, u = urlsplit(board), urlsplit(url)
        if (b.hostname or "").lower() != (u.hostname or "").lower() or b.port != u.port:
            return None
    except ValueError:
        return None
    prefix = b.path.rstrip("/")
    if not (u.path == prefix or u.path.startswith(prefix + "/")):
        return None
    return [unquote(s) for s in u.path[len(prefix) :].split("/") if s]


def board_error(err: CrawlError, kind: str, board: str) -> CrawlError:
    """A missing board is `not_found` (the company moved or the URL is wrong); the rest as is."""
    if err.kind in ("not_found", "gone"):
        return CrawlError("not_found", f"no {kind} board at {board}", url=err.url, status=err.status)
    return err


def fetch_board_json(url: str, family: str, board: str):
    """A board's JSON listing, a missing board reported as `not_found` naming the board (not the
    endpoint), so every board-URL family tells the user the same thing when a company moved."""
    try:
        return _http.fetch_json(url)
    except CrawlError as err:
        raise board_error(err, family, board) from None


def tenant_board(value: str, *domains: str) -> str:
    """`normalize_board` of a host-per-tenant family: any URL on a tenant host of one of `domains`
    is the tenant's origin (the board lives at the host's root, whatever page was pasted); a board
    on a custom domain keeps its path."""
    return tenant_of(value, domains) or board_base(value)


def tenant_of(url: str, domains: tuple[str, ...]) -> str | None:
    """The tenant origin of `url` on the first of `domains` it is a tenant host of, else None."""
    return next((origin for d in domains if (origin := tenant_origin(url, d))), None)


def tenant_ref(url: str, family: str, *domains: str, www_is_vendor: bool = False) -> str | None:
    """`match_url` of a host-per-tenant family: `FAMILY:https://tenant.domain` for a URL on a tenant
    host, else None. With `www_is_vendor`, `www.domain` is the vendor's own site, not a tenant."""
    origin = tenant_of(url, domains)
    if origin is None or (www_is_vendor and origin.startswith("https://www.")):
        return None
    return f"{family}:{origin}"


def board_ref(family: str, normalize, url: str) -> str | None:
    """`match_url` of a family whose boards sit on known hosts: `FAMILY:BOARD` when `normalize`
    accepts the URL, None when it refuses it (detection tries the next family instead of failing)."""
    try:
        return f"{family}:{normalize(url)}"
    except (ValueError, CrawlError):
        return None


def segment_after(board: str, url: str, marker: str, within: int = 1) -> str | None:
    """The path segment after `marker` in `url` below the board, the marker being one of the first
    `within` segments (`/o/SLUG`, `/careers/ID`, `/en/postings/ID`), else None."""
    rest = relative_segments(board, url)
    if rest and marker in rest[:within] and rest.index(marker) + 1 < len(rest):
        return rest[rest.index(marker) + 1]
    return None


def job_ref(family: str, board: str, job_id: str) -> dict:
    """The hints that name one job of a board: what `extract` of every board family reads."""
    return {"source": family, "board": board, "job_id": job_id}


def required_hints(hints: dict, family: str, source_url: str, *names: str) -> list:
    """The values of `names` in a job's hints; a missing one is a `parse_error` naming them all
    (hints come from stored rows, so an old or hand-made row fails clearly, not with a KeyError)."""
    values = [hints.get(name) for name in names]
    if not all(values):
        raise CrawlError("parse_error", f"{family} hints need {' and '.join(names)}", url=source_url)
    return values


def expect(condition: bool, family: str, what: str, url: str | None = None) -> None:
    if not condition:
        raise CrawlError("parse_error", f"the {family} answer {what}", url=url)


def text_field(value) -> str | None:
    """A label out of the `{"label": ...}` / `{"name": ...}` / plain string shapes ATS APIs use."""
    if isinstance(value, dict):
        value = value.get("label") or value.get("name") or value.get("descriptor") or value.get("text")
    if isinstance(value, (list, tuple)):
        value = next((text_field(v) for v in value if text_field(v)), None)
    return str(value) if value not in (None, "") else None


# ----- POST (Workday and Workable list their jobs by POST) -----------------------------------------


def post_json(url: str, payload: dict, *, retries: int | None = None):
    """POST a JSON body to a public ATS API and parse the JSON answer, through the safe fetcher
    (address guard, per-host limit, one deadline, size cap, typed errors, Retry-After retries). A
    redirect is refused (a POST is never replayed to another URL). Raises CrawlError."""
    result = _http.fetch(
        url,
        accept=None,
        robots=False,
        retries=retries,
        max_bytes=get_settings().crawler_max_api_bytes,
        method="POST",
        body=json.dumps(payload).encode(),
        extra_headers={"Accept": "application/json", "Content-Type": "application/json"},
    )
    return result.json()


# ----- XML feeds (Personio, Teamtailor) ------------------------------------------------------------


def parse_xml(text: str, family: str, url: str):
    """A fetched XML document through defusedxml: no entities, no external references, no DTDs.
    (Imported here, so the modules that never read XML do not need it.)"""
    from defusedxml import DefusedXmlException
    from defusedxml import ElementTree as DefusedET

    try:
        return DefusedET.fromstring(text.encode("utf-8", "surrogatepass"), forbid_dtd=True)
    except DefusedXmlException as exc:
        raise CrawlError(
            "parse_error", f"the {family} feed uses forbidden XML ({exc.__class__.__name__})", url=url
        ) from None
    except DefusedET.ParseError as exc:
        raise CrawlError("parse_error", f"the {family} feed is not valid XML ({exc})"[:300], url=url) from None


def local_name(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def child_text(el, name: str) -> str | None:
    """Text of the first direct child whose local name is `name` (namespace ignored)."""
    for child in el:
        if local_name(child.tag) == name:
            return (child.text or "").strip() or None
    return None


def children(el, name: str) -> list:
    return [child for child in el if local_name(child.tag) == name]


# ----- job pages (Breezy details, fallbacks) -------------------------------------------------------


def posting_from_page(url: str) -> Posting:
    """A job page's structured data (JSON-LD, microdata, HTML fallback) through the safe fetcher."""
    result = _http.fetch(url, accept=_http.PAGE_TYPES, robots=True)
    return extract_from_html(result.text, url)


# ----- boards re-read for extraction (families without a single-job endpoint) ---------------------

_MIN_REFRESH_SECONDS = 5.0


class BoardCache:
    """A short per-process cache of whole boards, one fetch at a time per board however many
    worker threads ask; a job missing from a cached board refreshes it (at most every 5 s)."""

    def __init__(self) -> None:
        self._boards: dict[str, tuple[float, dict[str, dict]]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def store(self, key: str, board: dict[str, dict]) -> dict[str, dict]:
        self._boards[key] = (time.monotonic(), board)
        return board

    def get(self, key: str, job_id: str, load) -> dict[str, dict]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            cached = self._boards.get(key)
            if cached:
                age = time.monotonic() - cached[0]
                fresh = age < get_settings().crawler_board_cache_seconds
                if fresh and (job_id in cached[1] or age < _MIN_REFRESH_SECONDS):
                    return cached[1]
            return self.store(key, load())

    def clear(self) -> None:
        self._boards.clear()
