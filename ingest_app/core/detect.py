"""Paste a URL, get a company: which board a URL belongs to, proven by listing it once.

`detect(url)` collects candidate source specs, probes each one live and proposes only those whose
board answered:

1. The URL itself: any board or job URL on a family's public hosts (each family's `match_url`).
2. Otherwise the page is fetched through the safe fetcher (redirects followed and guarded hop by
   hop): the final URL, then every script, iframe, link and anchor of the parsed HTML (lxml, no
   regex over the page) that a family recognizes, e.g. Greenhouse's embed script
   `boards.greenhouse.io/embed/job_board/js?for=acme`, a Lever, Ashby or Workday link.
3. A page that embeds no board but names a family whose boards also live on a company's own domain
   (Recruitee, Personio, Teamtailor, Pinpoint, Breezy, BambooHR, Workday) is probed as that
   family's board at the page's URL.
4. Otherwise the page is proposed as `careers:URL` when the careers source lists jobs on it.

Every fetch shares one deadline (`detect_timeout`), so a detection always ends. `probe(source)`
lists a source once through the same code the stage-2 preview uses (`list_company`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from ingest_app.core import listing_pool
from ingest_app.core.crawl import deadline
from ingest_app.core.crawl.types import CrawlError, ListedJob
from ingest_app.core.settings import get_settings
from ingest_app.core.sources import InvalidSourceSpec, parse_source_spec

log = logging.getLogger(__name__)

MAX_URL_LENGTH = 2048
MAX_CANDIDATES = 6  # boards probed per detection (a page linking dozens of boards is not one company's)
MAX_LINKS = 5000  # links of one page looked at
_LINK_ATTRS = (("script", "src"), ("iframe", "src"), ("a", "href"), ("link", "href"), ("form", "action"))
_GRACE = 5.0  # seconds an async caller waits beyond the detection deadline


class DetectError(ValueError):
    """The input cannot be detected at all (not a URL); the message is safe to show."""


@dataclass(frozen=True)
class Probe:
    source: str
    ok: bool
    jobs_listed: int
    error: str | None = None


@dataclass(frozen=True)
class Proposal:
    source: str
    family: str
    name: str | None
    jobs_listed: int


@dataclass(frozen=True)
class Detection:
    url: str
    proposals: list[Proposal] = field(default_factory=list)
    tried: list[str] = field(default_factory=list)
    error: str | None = None


ProbeFn = Callable[[str], Probe]


def probe(source: str) -> Probe:
    """List `source` once (the preview's listing, under the detection deadline); never raises."""
    return _probe_listing(source)[0]


def _probe_listing(source: str) -> tuple[Probe, ListedJob | None]:
    """The probe and the first listed job (its posting names the company)."""
    from ingest_app.core.pipeline.listing import list_company

    try:
        spec = str(parse_source_spec(source))
    except InvalidSourceSpec as exc:
        return Probe(source=str(source)[:MAX_URL_LENGTH], ok=False, jobs_listed=0, error=str(exc)), None
    with deadline.within(get_settings().detect_timeout):
        listing = list_company(spec)
    if listing.error is not None:
        return Probe(source=spec, ok=False, jobs_listed=0, error=listing.error.reason), None
    return Probe(source=spec, ok=True, jobs_listed=len(listing.jobs)), (listing.jobs[0] if listing.jobs else None)


def check_url(url: str) -> str:
    """The URL as it will be fetched (a pasted `jobs.lever.co/acme` gains `https://`); raises
    DetectError with a message fit to show, so the API answers 422 before taking a pool slot."""
    url = (url or "").strip()
    if not url:
        raise DetectError("Paste a board, job or careers page URL")
    if len(url) > MAX_URL_LENGTH:
        raise DetectError(f"A URL must be at most {MAX_URL_LENGTH} characters")
    if "://" not in url and " " not in url and "." in url.split("/", 1)[0]:
        url = "https://" + url  # "jobs.lever.co/acme" as people paste it
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise DetectError("That is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise DetectError("A URL must start with http:// or https:// and name a host")
    return url


def _match(url: str) -> str | None:
    from ingest_app.core.crawl.sources import match_url

    if len(url) > MAX_URL_LENGTH:
        return None
    try:
        return match_url(url)
    except (ValueError, CrawlError):
        return None


@dataclass
class _Page:
    url: str
    title: str | None = None
    site_name: str | None = None
    specs: list[str] = field(default_factory=list)
    vendors: list[str] = field(default_factory=list)  # own-domain board families the page names


def _read_page(url: str) -> _Page:
    """The page at `url` (redirects followed) and the board specs its HTML names. Raises CrawlError."""
    from ingest_app.core.crawl.extract import parse_html
    from ingest_app.core.crawl.http import PAGE_TYPES, fetch

    result = fetch(url, accept=PAGE_TYPES, robots=True, stop_at=lambda hop: _match(hop) is not None)
    page = _Page(url=result.url)
    if not result.status:  # redirected to a board URL a family knows: nothing more to read
        return page
    root = parse_html(result.text)
    page.title = _page_title(root)
    page.site_name = _site_name(root)
    page.vendors = _vendors_named(result.text, page.url)
    page.specs = _linked_specs(root, result.url)
    return page


def _page_title(root) -> str | None:
    from ingest_app.core.crawl.extract import text_of

    title = root.find(".//title")
    if title is None:
        return None
    return " ".join(text_of(title).split())[:200] or None


def _site_name(root) -> str | None:
    """The page's `og:site_name` (the first one), which usually is the company's name."""
    for meta in root.iter("meta"):
        if (meta.get("property") or meta.get("name") or "").strip().lower() == "og:site_name":
            return " ".join((meta.get("content") or "").split())[:200] or None
    return None


def _linked_specs(root, base_url: str) -> list[str]:
    """The board specs a family recognizes among the page's scripts, iframes, links, anchors and
    forms, in page order without repeats; at most MAX_LINKS links are looked at."""
    specs: list[str] = []
    seen: set[str] = set()
    looked = 0
    for el in root.iter(*{tag for tag, _ in _LINK_ATTRS}):
        attr = next(a for t, a in _LINK_ATTRS if t == el.tag)
        link = (el.get(attr) or "").strip()
        if not link or len(link) > MAX_URL_LENGTH:
            continue
        looked += 1
        if looked > MAX_LINKS:
            break
        try:
            absolute = urljoin(base_url, link)
        except ValueError:
            continue
        spec = _match(absolute)
        if spec and spec not in seen:
            seen.add(spec)
            specs.append(spec)
    return specs


# Families whose boards also live on a company's own domain, and how their pages name them (asset
# hosts, "powered by" footers, board paths). A page that names one is probed as that family's
# board at the page's own URL before it is taken for a plain careers page.
_OWN_DOMAIN_VENDORS = (
    ("recruitee", "recruitee"),
    ("personio", "personio"),
    ("teamtailor", "teamtailor"),
    ("pinpoint", "pinpointhq"),
    ("breezy", "breezy"),
    ("bamboohr", "bamboohr"),
    ("workday", "myworkday"),
)
MAX_VENDOR_PROBES = 2


def _vendors_named(text: str, page_url: str) -> list[str]:
    """Specs `FAMILY:PAGE_URL` of the own-domain families whose name the page's source mentions
    (a plain substring search, linear in the page), at most MAX_VENDOR_PROBES of them."""
    from ingest_app.core.sources import make_source_spec

    lower = text.lower()
    specs: list[str] = []
    for family, marker in _OWN_DOMAIN_VENDORS:
        if marker in lower or f"/{family}/" in lower:
            try:
                specs.append(str(make_source_spec(family, page_url)))
            except InvalidSourceSpec:
                continue
        if len(specs) >= MAX_VENDOR_PROBES:
            break
    return specs


def slug_name(spec: str) -> str | None:
    """A readable name from the board's slug: `greenhouse:acme-robotics` -> "Acme Robotics"."""
    kind, _, value = spec.partition(":")
    if kind == "careers" or "://" in value:
        parts = urlsplit(value)
        host = (parts.hostname or "").split(".")
        segments = [s for s in parts.path.split("/") if s]
        tenant_hosts = len(host) > 2 and host[0] not in ("www", "jobs", "careers", "apply", "ats", "boards")
        if kind == "careers":
            word = host[-2] if len(host) >= 2 else (host[0] if host else "")
        elif tenant_hosts:
            word = host[0]
        elif segments:
            word = segments[-2] if segments[-1] in ("jobs", "External") and len(segments) > 1 else segments[0]
        else:
            word = host[0] if host else ""
    else:
        word = value
    word = word.replace("-", " ").replace("_", " ").replace(".", " ").strip()
    return word.title()[:200] or None


def _board_name(spec: str, first: ListedJob | None) -> str | None:
    """The company name the board itself gives: the first listed posting's company, read through
    the family's extraction (families with full listings re-read their cached board)."""
    from ingest_app.core.crawl import extract_job, list_company_jobs

    if spec.startswith("careers:"):
        return None
    try:
        if first is None:
            jobs = list_company_jobs(spec)
            if not jobs:
                return None
            first = jobs[0]
        posting = extract_job(first.url, first.hints or None)
    except CrawlError:
        return None
    return (posting.company or "").strip()[:200] or None


def detect(url: str, *, probe_fn: ProbeFn | None = None, names: bool = True) -> Detection:
    """Propose the company source(s) behind `url`, each probed live. Never raises for a bad page:
    what failed is in `tried`, and `error` says why nothing is proposed. `names=False` skips the
    extra request that reads the company name from the board (an import row already has one), and
    so does a `probe_fn` passed in (it hands back no listing to read the name from)."""
    try:
        url = check_url(url)
    except DetectError as exc:
        return Detection(url=str(url or "")[:MAX_URL_LENGTH], error=str(exc))
    with deadline.within(get_settings().detect_timeout):
        return _detect(url, probe_fn, names)


@dataclass
class _Attempts:
    """What one detection proposes and what it tried, as its steps probe candidates in turn."""

    run_probe: Callable[[str], tuple[Probe, ListedJob | None]]
    page: _Page | None
    names: bool  # read the company name from the board
    proposals: list[Proposal] = field(default_factory=list)
    tried: list[str] = field(default_factory=list)

    def propose(self, result: Probe, first: ListedJob | None) -> None:
        self.proposals.append(_proposal(result, first, self.page, self.names))


def _detect(url: str, probe_fn: ProbeFn | None, names: bool) -> Detection:
    def run_probe(spec: str) -> tuple[Probe, ListedJob | None]:
        return _probe_listing(spec) if probe_fn is None else (probe_fn(spec), None)

    page: _Page | None = None
    direct = _match(url)
    if direct:
        specs = [direct]
    else:
        try:
            page = _read_page(url)
        except CrawlError as exc:
            return Detection(url=url, tried=[f"{url}: {exc.reason}"], error=f"no board found ({exc.reason})")
        final = _match(page.url)
        specs = list(dict.fromkeys(([final] if final else []) + page.specs))
    attempts = _Attempts(run_probe, page, names and probe_fn is None)
    _probe_boards(attempts, specs)
    if not attempts.proposals and page is not None and not specs:
        _probe_vendors(attempts, page.vendors)
    if not attempts.proposals and page is not None:
        _probe_careers(attempts, page.url)
    if not attempts.proposals:
        return Detection(url=url, tried=attempts.tried, error="no board found")
    return Detection(url=url, proposals=attempts.proposals, tried=attempts.tried)


def _probe_boards(attempts: _Attempts, specs: list[str]) -> None:
    """Probes the boards the URL or its page names; past MAX_CANDIDATES they are only listed as
    not tried (a page linking dozens of boards is not one company's)."""
    for spec in specs[:MAX_CANDIDATES]:
        result, first = attempts.run_probe(spec)
        if result.ok:
            attempts.propose(result, first)
        else:
            attempts.tried.append(f"{spec}: {result.error}")
    for spec in specs[MAX_CANDIDATES:]:
        attempts.tried.append(f"{spec}: not tried (at most {MAX_CANDIDATES} boards per page)")


def _probe_vendors(attempts: _Attempts, vendors: list[str]) -> None:
    """Probes the own-domain families the page names until one lists jobs: only a guess from the
    page's words, so a board that answers but lists nothing is not proposed."""
    for spec in vendors:
        result, first = attempts.run_probe(spec)
        if result.ok and result.jobs_listed:
            attempts.propose(result, first)
            return
        attempts.tried.append(f"{spec}: {result.error or 'lists no jobs at this URL'}")


def _probe_careers(attempts: _Attempts, page_url: str) -> None:
    """Proposes the page itself as a careers page when the careers source lists jobs on it."""
    careers = f"careers:{page_url}"
    result, _ = attempts.run_probe(careers)
    if result.ok and result.jobs_listed:
        attempts.propose(result, None)
    else:
        attempts.tried.append(f"{careers}: {result.error or 'the page links to no job postings'}")


def _proposal(result: Probe, first: ListedJob | None, page: _Page | None, names: bool) -> Proposal:
    family = result.source.split(":", 1)[0]
    name = None
    if names and deadline.remaining() != 0:
        name = _board_name(result.source, first)
    if not name and page is not None:
        name = page.site_name or _title_name(page.title)
    return Proposal(source=result.source, family=family, name=name or slug_name(result.source),
                    jobs_listed=result.jobs_listed)  # fmt: skip


def _title_name(title: str | None) -> str | None:
    """ "Careers at Acme" / "Jobs | Acme" -> "Acme"; a bare title as it is."""
    if not title:
        return None
    for sep in (" | ", " - ", " — ", " · "):
        if sep in title:
            parts = [p.strip() for p in title.split(sep) if p.strip()]
            generic = ("careers", "jobs", "open roles", "open positions", "work with us", "join us")
            rest = [p for p in parts if p.lower() not in generic]
            title = rest[-1] if rest else parts[0]
            break
    lower = title.lower()
    for prefix in ("careers at ", "jobs at ", "work at ", "join ", "open roles at "):
        if lower.startswith(prefix):
            return title[len(prefix) :].strip() or None
    return title


# ----- off the event loop ------------------------------------------------------------------------


async def _in_pool(user: Hashable, fn, timed_out):
    pool = listing_pool.get_pool()
    future = pool.submit(user, fn)
    seconds = get_settings().detect_timeout
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout=seconds + _GRACE)
    except TimeoutError:  # waited in the pool's queue past the deadline: say so, never hang
        return timed_out(f"took longer than {seconds:g} s; stopped")


async def detect_async(user_id: Hashable, url: str) -> Detection:
    """`detect` in the bounded listing pool (raises PreviewBusy when the user has too many running)."""
    return await _in_pool(user_id, lambda: detect(url), lambda why: Detection(url=url, error=f"no board found ({why})"))


async def probe_async(user_id: Hashable, source: str) -> Probe:
    return await _in_pool(
        user_id, lambda: probe(source), lambda why: Probe(source=source, ok=False, jobs_listed=0, error=why)
    )
