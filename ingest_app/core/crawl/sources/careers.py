"""careers:URL: find the job links on a company careers page and follow its pagination."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from ingest_app.core.crawl.ats_urls import hints_for_url
from ingest_app.core.crawl.extract import parse_html, text_of
from ingest_app.core.crawl.http import fetch
from ingest_app.core.crawl.jsonld import find_typed, ld_blocks
from ingest_app.core.crawl.sources.common import dedupe
from ingest_app.core.crawl.types import CrawlError, JobListing, ListedJob
from ingest_app.core.crawl.urls import canonicalize_url
from ingest_app.core.settings import get_settings

_NOISE_TAGS = {"nav", "header", "footer", "aside", "script", "style", "noscript", "template", "form"}
_NOISE_ATTR = re.compile(r"cookie|consent|gdpr|newsletter|modal|popup|breadcrumb|social|share|site-?nav|menu", re.I)
_SKIP_EXT = re.compile(r"\.(pdf|docx?|xlsx?|pptx?|zip|gz|png|jpe?g|gif|svg|webp|mp4|mp3|ics|csv|rss|xml)$", re.I)
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
_ATS_HOSTS = (
    "greenhouse.io",
    "lever.co",
    "ashbyhq.com",
    "workable.com",
    "smartrecruiters.com",
    "bamboohr.com",
    "recruitee.com",
    "personio.de",
    "personio.com",
    "teamtailor.com",
    "myworkdayjobs.com",
    "jobvite.com",
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
_PAGE_PARAMS = {"page", "p", "pg", "offset", "start", "skip"}
_NEXT_TEXT = re.compile(r"^\s*(next( page)?|more jobs|older|›|»|→|>|>>)\s*[›»→>]?\s*$", re.I)


def _host_matches(host: str, domains) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def _site(host: str) -> str:
    parts = host.split(".")
    return ".".join(parts[-2:]) if len(parts) > 2 else host


def _in_content(el) -> bool:
    """Inside an article/section/list item: a card's own header, not the page's."""
    parent = el.getparent()
    while parent is not None:
        if isinstance(parent.tag, str) and parent.tag.lower() in _CONTENT_TAGS:
            return True
        parent = parent.getparent()
    return False


def _is_noise(el) -> bool:
    """Inside site navigation, the page header/footer, an aside, a cookie banner or a menu."""
    while el is not None:
        if isinstance(el.tag, str):
            tag = el.tag.lower()
            if tag in _NOISE_TAGS or el.get("role") in ("navigation", "contentinfo", "banner"):
                if tag not in ("header", "footer") or not _in_content(el):
                    return True
            if _NOISE_ATTR.search(f"{el.get('class', '')} {el.get('id', '')}"):
                return True
        el = el.getparent()
    return False


def _looks_like_job(url: str, page_url: str) -> bool:
    parts = urlsplit(url)
    page = urlsplit(page_url)
    host = (parts.hostname or "").lower()
    if _SKIP_EXT.search(parts.path) or _host_matches(host, _SOCIAL):
        return False
    same_site = _site(host) == _site((page.hostname or "").lower())
    ats = _host_matches(host, _ATS_HOSTS)
    if not (same_site or ats):
        return False
    params = {k.lower() for k, _ in parse_qsl(parts.query)}
    if params & _JOB_PARAMS:
        return True
    segments = [s for s in parts.path.split("/") if s]
    if not segments or segments[-1].lower() in _NOT_JOBS or segments[-1].lower() in _JOB_SEGMENTS:
        return False
    if ats and len(segments) >= 2:
        return True
    page_path = page.path.rstrip("/") + "/"
    if page_path != "/" and (parts.path.startswith(page_path)) and len(parts.path) > len(page_path):
        return True
    return any(s.lower() in _JOB_SEGMENTS for s in segments[:-1])


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
        label = f"{el.get('aria-label', '')} {el.get('class', '')}".lower()
        text = text_of(el) if el.tag == "a" else ""
        url = urljoin(page_url, href)
        if "next" in rel or (el.tag == "a" and (_NEXT_TEXT.match(text or "") or "next" in label)):
            found.append(url)
        elif el.tag == "a" and _is_page_link(url, page_url):
            found.append(url)
    return found


def _jsonld_links(markup: str, page_url: str) -> list[tuple[str, str | None]]:
    blocks = list(ld_blocks(markup))
    links: list[tuple[str, str | None]] = []
    for node in find_typed(blocks, "ItemList"):
        for element in node.get("itemListElement") or []:
            if not isinstance(element, dict):
                continue
            item = element.get("item") if isinstance(element.get("item"), dict) else element
            url = item.get("url") or (element.get("item") if isinstance(element.get("item"), str) else None)
            if isinstance(url, str):
                links.append((urljoin(page_url, url), item.get("name") or item.get("title")))
    for node in find_typed(blocks, "JobPosting"):
        if isinstance(node.get("url"), str):
            links.append((urljoin(page_url, node["url"]), node.get("title")))
    return links


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
    links = _jsonld_links(markup, page_url)
    if links:
        return links
    found = []
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")) or _is_noise(a):
            continue
        if "next" in (a.get("rel") or "").lower().split():
            continue
        url = urljoin(page_url, href)
        if urlsplit(url).scheme in ("http", "https") and _looks_like_job(url, page_url):
            found.append((url, " ".join(text_of(a).split())[:500] or None))
    return found


def _canonical_or_none(url: str) -> str | None:
    try:
        return canonicalize_url(url)
    except CrawlError:
        return None


def list_jobs(url: str) -> list[ListedJob]:
    """Job links of a careers page and its next pages (at most `crawler_max_pages`)."""
    start = canonicalize_url(url)
    max_pages = max(1, get_settings().crawler_max_pages)
    queue, visited, jobs = [start], set(), []
    while queue and len(visited) < max_pages:
        page_url = queue.pop(0)
        if _first_page_key(page_url) in visited:
            continue
        visited.add(_first_page_key(page_url))
        try:
            result = fetch(page_url, robots=True)
        except CrawlError as err:
            # A later page that does not exist (or may not be crawled) lists nothing; any other
            # failure makes the listing incomplete, and an incomplete listing must not archive.
            if page_url == start or err.kind not in _SKIPPABLE_PAGE_ERRORS:
                raise
            continue
        markup = result.text
        root = parse_html(markup)
        pages = list(dict.fromkeys(_canonical_or_none(p) for p in _next_pages(root, result.url)))
        for job_url, title in _page_jobs(markup, result.url, root):
            try:
                canonical = canonicalize_url(job_url)
            except CrawlError:
                continue
            if canonical in visited or canonical in pages or canonical == start:
                continue
            hints = hints_for_url(canonical) or {"source": "careers"}
            jobs.append(ListedJob(url=canonical, title=title, hints=hints))
        for next_url in pages:
            if next_url is None:
                continue
            same_host = urlsplit(next_url).hostname == urlsplit(start).hostname
            if same_host and _first_page_key(next_url) not in visited:
                queue.append(next_url)
    listing = JobListing(dedupe(jobs))
    if any(_first_page_key(page) not in visited for page in queue):
        listing.incomplete = f"the careers page has more than {max_pages} pages; listed the first {max_pages}"
    return listing
