"""careers:URL: find the job links on a company careers page and follow its pagination."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from ingest_app.core.crawl.ats_urls import hints_for_url
from ingest_app.core.crawl.extract import parse_html, text_of
from ingest_app.core.crawl.http import fetch
from ingest_app.core.crawl.jsonld import find_typed, ld_blocks
from ingest_app.core.crawl.sources import FAMILIES
from ingest_app.core.crawl.sources import careers_links as links
from ingest_app.core.crawl.sources.common import dedupe
from ingest_app.core.crawl.types import CrawlError, JobListing, ListedJob
from ingest_app.core.crawl.urls import canonicalize_url
from ingest_app.core.settings import get_settings

_NOISE_TAGS = {"nav", "header", "footer", "aside", "script", "style", "noscript", "template", "form"}
_NOISE_WORDS = (
    "cookie",
    "consent",
    "gdpr",
    "newsletter",
    "modal",
    "popup",
    "breadcrumb",
    "social",
    "share",
    "sitenav",
    "site-nav",
    "menu",
)
_TWO_LABEL_SUFFIXES = frozenset(
    "co.uk org.uk ac.uk gov.uk com.au net.au org.au co.nz co.jp co.kr com.br com.cn com.mx co.in "
    "co.za com.sg com.tr com.ar com.hk com.tw co.il com.my co.id".split()
)
_MAX_ATTR = 512  # class/id attributes longer than this are read only up to here
_SKIP_EXT = frozenset("pdf doc docx xls xlsx ppt pptx zip gz png jpg jpeg gif svg webp mp4 mp3 ics csv rss xml".split())
_SOCIAL = (
    "linkedin.com",
    "twitter.com",
    "x.com",
    "facebook.com",
    "instagram.com",
    "youtube.com",
    "tiktok.com",
    "glassdoor.com",
    "github.com",
    "medium.com",
    "t.co",
    "wa.me",
    "pinterest.com",
)
# Every family's public hosts, plus ATS hosts that have no source family yet.
_ATS_HOSTS = tuple(
    sorted({host for family in FAMILIES for host in family.hosts} | {"personio.de", "personio.com", "jobvite.com"})
)
_JOB_SEGMENTS = {
    "job",
    "jobs",
    "careers",
    "career",
    "position",
    "positions",
    "opening",
    "openings",
    "role",
    "roles",
    "vacancy",
    "vacancies",
    "opportunity",
    "opportunities",
    "posting",
    "postings",
    "o",
    "j",
    "apply",
}
_NOT_JOBS = {
    "benefits",
    "culture",
    "teams",
    "team",
    "life",
    "faq",
    "students",
    "university",
    "search",
    "about",
    "locations",
    "departments",
    "values",
    "diversity",
    "perks",
    "privacy",
    "terms",
    "contact",
    "blog",
    "events",
    "press",
    "alerts",
    "saved",
    "login",
    "signin",
    "register",
    "page",
}
_JOB_PARAMS = {"gh_jid", "jobid", "job_id", "jid", "posting_id", "jobreq", "req"}
_CONTENT_TAGS = {"article", "section", "li", "main"}
_SKIPPABLE_PAGE_ERRORS = {"not_found", "gone", "blocked_by_robots", "not_a_job_page"}
_MAX_PAGE_LINKS = 200  # pagination links read per page
_PAGE_PARAMS = {"page", "p", "pg", "offset", "start", "skip"}
_NEXT_WORDS = frozenset({"next", "next page", "more jobs", "older", "›", "»", "→", ">", ">>"})
_ARROWS = "›»→>"


def _host_matches(host: str, domains) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def _site(host: str) -> str:
    """The registrable part of a host name (`jobs.acme.co.uk` -> `acme.co.uk`); an IP literal is
    its own site."""
    host = host.strip("[]")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    parts = host.split(".")
    keep = 3 if len(parts) > 2 and ".".join(parts[-2:]) in _TWO_LABEL_SUFFIXES else 2
    return ".".join(parts[-keep:]) if len(parts) > keep else host


def _allowed_host(url: str, page_url: str) -> bool:
    """The same site as the careers page, or a known ATS: the only hosts a careers page may send
    the crawler to (a link to any other host would make us fetch third-party URLs)."""
    host = (urlsplit(url).hostname or "").lower()
    if _host_matches(host, _SOCIAL):
        return False
    return _site(host) == _site((urlsplit(page_url).hostname or "").lower()) or _host_matches(host, _ATS_HOSTS)


def _skipped_extension(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return "." in name and name.rsplit(".", 1)[-1].lower() in _SKIP_EXT


class _Noise:
    """Site navigation, page header/footer, asides, cookie banners, menus; decided once per element
    (a page of many links inside deep markup stays linear)."""

    def __init__(self) -> None:
        self._noisy: dict = {}
        self._content: dict = {}

    def _in_content(self, el) -> bool:
        """Inside an article/section/list item: a card's own header, not the page's."""
        parent = el.getparent()
        if parent is None:
            return False
        if parent in self._content:
            return self._content[parent]
        tag = parent.tag.lower() if isinstance(parent.tag, str) else ""
        result = tag in _CONTENT_TAGS or self._in_content(parent)
        self._content[parent] = result
        return result

    def _own(self, el) -> bool:
        if not isinstance(el.tag, str):
            return False
        tag = el.tag.lower()
        if tag in _NOISE_TAGS or el.get("role") in ("navigation", "contentinfo", "banner"):
            if tag not in ("header", "footer") or not self._in_content(el):
                return True
        attrs = f"{(el.get('class') or '')[:_MAX_ATTR]} {(el.get('id') or '')[:_MAX_ATTR]}".lower()
        return any(word in attrs for word in _NOISE_WORDS)

    def __call__(self, el) -> bool:
        chain = []
        result = False
        while el is not None:
            if el in self._noisy:
                result = self._noisy[el]
                break
            chain.append(el)
            if self._own(el):
                result = True
                break
            el = el.getparent()
        for seen in chain:
            self._noisy[seen] = result
        return result


def _candidate(url: str, page_url: str) -> str | None:
    """How a link may be a job: "param" (a job id parameter), "ats" (a job on a known ATS),
    "path" (a same-site page under the careers path: needs more evidence), else None."""
    parts = urlsplit(url)
    page = urlsplit(page_url)
    if _skipped_extension(parts.path) or not _allowed_host(url, page_url):
        return None
    ats = _host_matches((parts.hostname or "").lower(), _ATS_HOSTS)
    params = {k.lower() for k, _ in parse_qsl(parts.query)}
    if params & _JOB_PARAMS:
        return "param"
    segments = [s for s in parts.path.split("/") if s]
    if not segments or segments[-1].lower() in _NOT_JOBS or segments[-1].lower() in _JOB_SEGMENTS:
        return None
    if ats:
        return "ats" if len(segments) >= 2 else None
    page_path = page.path.rstrip("/") + "/"
    if page_path != "/" and (parts.path.startswith(page_path)) and len(parts.path) > len(page_path):
        return "path"
    return "path" if any(s.lower() in _JOB_SEGMENTS for s in segments[:-1]) else None


def _job_segments(url: str) -> list[str]:
    """The path segments after the last careers-like segment (`/careers/eng/backend-1` -> both)."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    for i in range(len(segments) - 1, -1, -1):
        if segments[i].lower() in _JOB_SEGMENTS:
            return segments[i + 1 :]
    return segments


def _evidence(url: str, text: str | None) -> tuple[bool, bool]:
    """(is a posting by its own signals, is surely not a posting) for a same-site candidate."""
    segments = _job_segments(url)
    slug = links.words(segments[-1]) if segments else []
    text_words = links.words(text or "")
    if links.reads_like_non_job(slug) or links.reads_like_non_job(text_words):
        return False, True
    return links.has_job_id(segments) or links.reads_like_title(text_words) or links.reads_like_title(slug), False


class _Groups:
    """Repeated lists: links whose nearest repeated ancestor (an element with at least 3 siblings
    of its tag, like the `li` of a `ul`) and path down to the link are the same."""

    def __init__(self) -> None:
        self._counts: dict = {}

    def _repeats(self, el) -> int:
        parent = el.getparent()
        key = (parent, el.tag)
        if key not in self._counts:
            self._counts[key] = sum(1 for child in parent if child.tag == el.tag)
        return self._counts[key]

    def key(self, a):
        path = []
        el = a
        for _ in range(5):
            parent = el.getparent()
            if parent is None:
                return None
            path.append((el.tag, (el.get("class") or "")[:100]))
            if self._repeats(el) >= 3:
                return parent, tuple(path)
            el = parent
        return None


def _is_next_text(text: str) -> bool:
    if len(text) > 40:
        return False
    label = " ".join(text.split()).lower()
    if label in _NEXT_WORDS:
        return True
    return bool(label) and label[-1] in _ARROWS and label[:-1].rstrip() in _NEXT_WORDS


def _is_page_link(url: str, page_url: str) -> bool:
    parts, page = urlsplit(url), urlsplit(page_url)
    if parts.hostname != page.hostname or parts.path.rstrip("/") != page.path.rstrip("/"):
        return False
    return any(k.lower() in _PAGE_PARAMS for k, _ in parse_qsl(parts.query))


def _next_pages(root, page_url: str) -> list[str]:
    found = []
    for el in root.iter("link", "a"):
        href = el.get("href")
        if not href:
            continue
        rel = (el.get("rel") or "").lower().split()
        label = f"{(el.get('aria-label') or '')[:_MAX_ATTR]} {(el.get('class') or '')[:_MAX_ATTR]}".lower()
        url = urljoin(page_url, href)
        if "next" in rel or (el.tag == "a" and ("next" in label or _is_next_text(text_of(el)))):
            found.append(url)
        elif el.tag == "a" and _is_page_link(url, page_url):
            found.append(url)
    return found


def _ld_items(node: dict):
    elements = node.get("itemListElement") or []
    for element in elements if isinstance(elements, list) else [elements]:
        if isinstance(element, str):
            yield element, None, False
            continue
        if not isinstance(element, dict):
            continue
        item = element.get("item")
        if isinstance(item, str):
            yield item, element.get("name"), False
            continue
        item = item if isinstance(item, dict) else element
        url = item.get("url") or item.get("@id") or element.get("url")
        typed = "JobPosting" in str(item.get("@type") or "")
        if isinstance(url, str):
            yield url, item.get("title") or item.get("name") or element.get("name"), typed


def _jsonld_links(markup: str, page_url: str) -> list[tuple[str, str | None]]:
    """Postings a careers page lists in JSON-LD (an ItemList, or JobPosting nodes), on the same
    site or a known ATS only."""
    blocks = list(ld_blocks(markup))
    found: list[tuple[str, str | None, bool]] = []
    for node in find_typed(blocks, "ItemList"):
        found.extend(_ld_items(node))
    for node in find_typed(blocks, "JobPosting"):
        if isinstance(node.get("url"), str):
            found.append((node["url"], node.get("title") or node.get("name"), True))
    result: list[tuple[str, str | None]] = []
    for raw, title, typed in found:
        try:
            url = urljoin(page_url, raw.strip())
        except ValueError:
            continue
        name = " ".join(str(title).split())[:500] if isinstance(title, str) and title.strip() else None
        if urlsplit(url).scheme not in ("http", "https") or not _allowed_host(url, page_url):
            continue
        if _skipped_extension(urlsplit(url).path):
            continue
        if not typed and _evidence(url, name)[1]:
            continue  # an untyped list item that names a team or culture page
        result.append((url, name))
    return result


def _first_page_key(url: str) -> str:
    """The URL without a `page=1`-style parameter: `/careers/?page=1` is `/careers/`."""
    parts = urlsplit(url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not (k.lower() in _PAGE_PARAMS and v in ("", "0", "1"))
    ]
    return parts._replace(query=urlencode(query)).geturl()


def _page_jobs(markup: str, page_url: str, root) -> list[tuple[str, str | None]]:
    """The postings a careers page lists: its JSON-LD links, then the anchors taken as postings."""
    return _jsonld_links(markup, page_url) + _voted_links(_anchor_candidates(root, page_url))


def _anchor_candidates(root, page_url: str) -> list[tuple[str, str | None, str, object]]:
    """(url, text, kind, group key) of each anchor that may be a posting: an http(s) link that
    `_candidate` accepts, not a fragment, mail, phone or script link, a next page or page noise."""
    noise, groups = _Noise(), _Groups()
    candidates = []
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
            continue
        if "next" in (a.get("rel") or "").lower().split() or noise(a):
            continue
        try:
            url = urljoin(page_url, href)
        except ValueError:
            continue
        if urlsplit(url).scheme not in ("http", "https") or (kind := _candidate(url, page_url)) is None:
            continue
        text = " ".join(text_of(a)[: links.MAX_TEXT * 2].split())[:500] or None
        candidates.append((url, text, kind, groups.key(a)))
    return candidates


def _voted_links(candidates: list[tuple[str, str | None, str, object]]) -> list[tuple[str, str | None]]:
    """A same-site link needs its own evidence, or a place in a repeated list most of whose links
    are postings; a link that names a team, culture or talent-community page is never taken."""
    verdicts = []
    votes: dict = {}
    for url, text, kind, group in candidates:
        strong, refused = (True, False) if kind != "path" else _evidence(url, text)
        verdicts.append((strong, refused))
        if group is not None:
            yes, total = votes.get(group, (0, 0))
            votes[group] = (yes + (strong and not refused), total + 1)
    found = []
    for (url, text, _kind, group), (strong, refused) in zip(candidates, verdicts, strict=True):
        if refused:
            continue
        if not strong and group is not None:
            yes, total = votes[group]
            strong = total >= 3 and yes * 2 > total
        if strong:
            found.append((url, text))
    return found


def _canonical_or_none(url: str) -> str | None:
    try:
        return canonicalize_url(url)
    except CrawlError:
        return None


@dataclass
class _Crawl:
    """One listing of a careers site: the pages to visit and visited (by first-page key), the
    jobs found so far, and whether the job limit cut it."""

    start: str
    max_jobs: int
    queue: list[str]
    visited: set[str] = field(default_factory=set)
    jobs: dict[str, ListedJob] = field(default_factory=dict)
    cut: bool = False

    def add_jobs(self, found: list[tuple[str, str | None]], pages: list[str | None]) -> None:
        """Keeps the page's job links that are new and are not pages of the listing itself."""
        for job_url, title in found:
            canonical = _canonical_or_none(job_url)
            if canonical is None:
                continue
            if canonical in self.visited or canonical in pages or canonical == self.start or canonical in self.jobs:
                continue
            if len(self.jobs) >= self.max_jobs:
                self.cut = True
                return
            hints = hints_for_url(canonical) or {"source": "careers"}
            self.jobs[canonical] = ListedJob(url=canonical, title=title, hints=hints)

    def queue_pages(self, pages: list[str | None]) -> None:
        """Queues the next pages on the start page's host that are not visited yet."""
        host = urlsplit(self.start).hostname
        for next_url in pages:
            if (
                next_url is not None
                and urlsplit(next_url).hostname == host
                and _first_page_key(next_url) not in self.visited
            ):
                self.queue.append(next_url)


def _fetch_page(page_url: str, start: str):
    """The page's answer; None for a later page that does not exist (or may not be crawled): it
    lists nothing. Any other failure makes the listing incomplete, and an incomplete listing must
    not archive, so it raises."""
    try:
        return fetch(page_url, robots=True)
    except CrawlError as err:
        if page_url == start or err.kind not in _SKIPPABLE_PAGE_ERRORS:
            raise
        return None


def list_jobs(url: str) -> list[ListedJob]:
    """Job links of a careers page and its next pages (at most `crawler_max_pages` pages and
    `crawler_max_jobs_per_company` links; a listing cut at either limit says so)."""
    settings = get_settings()
    start = canonicalize_url(url)
    max_pages = max(1, settings.crawler_max_pages)
    max_jobs = max(1, settings.crawler_max_jobs_per_company)
    crawl = _Crawl(start=start, max_jobs=max_jobs, queue=[start])
    while crawl.queue and len(crawl.visited) < max_pages and not crawl.cut:
        page_url = crawl.queue.pop(0)
        if _first_page_key(page_url) in crawl.visited:
            continue
        crawl.visited.add(_first_page_key(page_url))
        result = _fetch_page(page_url, start)
        if result is None:
            continue
        markup = result.text
        root = parse_html(markup)
        pages = list(dict.fromkeys(_canonical_or_none(p) for p in _next_pages(root, result.url)))[:_MAX_PAGE_LINKS]
        crawl.add_jobs(_page_jobs(markup, result.url, root), pages)
        crawl.queue_pages(pages)
    listing = JobListing(dedupe(list(crawl.jobs.values())))
    if crawl.cut:
        listing.incomplete = f"the careers page lists more than {max_jobs} job links; kept the first {max_jobs}"
    elif any(_first_page_key(page) not in crawl.visited for page in crawl.queue):
        listing.incomplete = f"the careers page has more than {max_pages} pages; listed the first {max_pages}"
    return listing
