"""One HTML page -> one normalized posting: JSON-LD, then microdata, then an HTML fallback."""

from __future__ import annotations

import re

from lxml import etree

from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.jsonld import jobposting_from_markup, posting_from_jsonld
from ingest_app.core.crawl.types import CrawlError, Posting

# Pages are decoded before parsing; lxml must not re-decode them by their <meta charset>.
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, recover=True, encoding="utf-8")
_SITE_NAME = re.compile(r"""<meta[^>]+property=["']og:site_name["'][^>]*content=["']([^"']+)""", re.I)
_NOISE = {"nav", "header", "footer", "aside", "script", "style", "noscript", "template", "form", "svg", "button"}
_NOISE_ATTR = re.compile(r"cookie|consent|gdpr|banner|newsletter|modal|popup|breadcrumb|share|social|menu", re.I)
_JOB_WORDS = re.compile(
    r"\b(responsibilit|requirement|qualification|apply|what you.ll do|about the role|about you|experience|"
    r"salary|benefits|job|position|role|required|hiring|candidate|skills|looking for)",
    re.I,
)
MIN_FALLBACK_TEXT = 200


def text_of(el) -> str:
    return "".join(el.itertext())


def parse_html(markup: str):
    root = etree.fromstring(markup.encode("utf-8", "surrogatepass") if markup else b"<html/>", _PARSER)
    if root is None:
        raise CrawlError("parse_error", "the page could not be parsed as HTML")
    return root


def _microdata_value(el) -> object:
    if el.get("itemscope") is not None:
        return _microdata_item(el)
    tag = el.tag.lower() if isinstance(el.tag, str) else ""
    if tag == "meta":
        return el.get("content")
    if tag in ("a", "link"):
        return el.get("href")
    if tag in ("img", "source"):
        return el.get("src")
    if tag == "time":
        return el.get("datetime") or text_of(el)
    if el.get("content") is not None:
        return el.get("content")
    if tag in ("div", "section", "article", "span", "p") and len(el):
        return etree.tostring(el, method="html", encoding="unicode", with_tail=False)
    return text_of(el)


def _microdata_item(scope) -> dict:
    item: dict = {"@type": scope.get("itemtype", "")}
    stack = list(scope)
    while stack:
        el = stack.pop(0)
        if not isinstance(el.tag, str):
            continue
        prop = el.get("itemprop")
        if prop:
            value = _microdata_value(el)
            for name in prop.split():
                item.setdefault(name, value)
            if el.get("itemscope") is not None:
                continue  # its properties belong to the nested item
        stack[0:0] = list(el)
    return item


_MICRODATA_JOB = etree.XPath("//*[@itemscope][contains(@itemtype, 'JobPosting')]")
_APPLY_LINKS = etree.XPath("//a[@href][contains(., 'pply') or contains(., 'PPLY')]")


def _microdata_job(root) -> dict | None:
    found = _MICRODATA_JOB(root)
    return _microdata_item(found[0]) if found else None


def _meta(root, prop: str) -> str | None:
    for el in root.iter("meta"):
        if el.get("property") == prop or el.get("name") == prop:
            return el.get("content")
    return None


def _visible_text(root) -> str:
    candidates = [el for tag in ("main", "article") for el in root.iter(tag)]
    body = candidates[0] if candidates else next(root.iter("body"), root)
    for el in list(body.iter()):
        if not isinstance(el.tag, str) or el is body:
            continue
        noisy = el.tag.lower() in _NOISE or _NOISE_ATTR.search(f"{el.get('class', '')} {el.get('id', '')}")
        if noisy and el.getparent() is not None:
            el.getparent().remove(el)
    return n.element_text(body) or ""


def _fallback(root, source_url: str) -> Posting | None:
    h1 = next((n.clean_text(text_of(el)) for el in root.iter("h1") if text_of(el).strip()), None)
    title = h1 or n.clean_text(_meta(root, "og:title"))
    if not title:
        return None
    text = _visible_text(root)
    if len(text) < MIN_FALLBACK_TEXT or not _JOB_WORDS.search(text):
        return None
    links = _APPLY_LINKS(root)
    apply_url = links[0].get("href") if links else None
    return Posting(
        source_url=source_url,
        title=title,
        company=n.clean_text(_meta(root, "og:site_name"), 200),
        description=text[: n.MAX_DESCRIPTION],
        apply_url=apply_url or source_url,
    )


def extract_from_html(markup: str, source_url: str) -> Posting:
    """Raise CrawlError("not_a_job_page") when nothing on the page looks like a posting."""
    posting = jobposting_from_markup(markup, source_url)
    if posting is not None:
        if not posting.company and (match := _SITE_NAME.search(markup)):
            posting.company = n.clean_text(match.group(1), 200)
        if not posting.description:
            posting.description = _visible_text(parse_html(markup)) or None
        return posting
    root = parse_html(markup)
    item = _microdata_job(root) if "JobPosting" in markup else None
    if item is not None:
        posting = posting_from_jsonld(item, source_url)
        if posting.title:
            if not posting.company:
                posting.company = n.clean_text(_meta(root, "og:site_name"), 200)
            return posting
    posting = _fallback(root, source_url)
    if posting is None:
        raise CrawlError("not_a_job_page", "no job posting found on the page", url=source_url)
    return posting
