"""One HTML page -> one normalized posting: JSON-LD, then microdata or RDFa, then an HTML fallback
(labelled fields, the main heading as title)."""

from __future__ import annotations

import re
from itertools import islice

from lxml import etree

from ingest_app.core.crawl import fields
from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.jsonld import jobposting_from_markup, posting_from_jsonld, tag_attributes
from ingest_app.core.crawl.types import CrawlError, Posting

# Pages are decoded before parsing; lxml must not re-decode them by their <meta charset>.
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, recover=True, encoding="utf-8")
_NOISE = {"nav", "header", "footer", "aside", "script", "style", "noscript", "template", "form", "svg", "button"}
# Matched against one element's class and id (alternatives of plain words: linear time).
_NOISE_ATTR = re.compile(r"cookie|consent|gdpr|banner|newsletter|modal|popup|breadcrumb|share|social|menu", re.I)
_JOB_WORDS = re.compile(
    r"\b(responsibilit|requirement|qualification|apply|what you.ll do|about the role|about you|experience|"
    r"salary|benefits|job|position|role|required|hiring|candidate|skills|looking for|"
    r"aufgaben|anforderungen|erfahrung|bewerb|profil|stelle|poste|candidat|expérience)",
    re.I,
)
_MAX_TAG = 4096
_MAX_PROPS = 2000
MIN_FALLBACK_TEXT = 200


def text_of(el) -> str:
    return "".join(el.itertext())


def parse_html(markup: str):
    root = etree.fromstring(markup.encode("utf-8", "surrogatepass") if markup else b"<html/>", _PARSER)
    if root is None:
        raise CrawlError("parse_error", "the page could not be parsed as HTML")
    return root


# --- microdata and RDFa: the same walk, two attribute vocabularies ----------------------------


def _local(name: str) -> str:
    """The local name: "http://schema.org/title", "schema:title" and "title" are all "title"."""
    return name.rsplit("/", 1)[-1].rsplit("#", 1)[-1].rsplit(":", 1)[-1]


class _Vocab:
    def __init__(self, prop: str, scope: str, kind: str) -> None:
        self.prop, self.scope, self.kind = prop, scope, kind

    def is_item(self, el) -> bool:
        return el.get(self.scope) is not None

    def item_type(self, el) -> str:
        return el.get(self.kind) or el.get("typeof") or ""


_MICRODATA = _Vocab("itemprop", "itemscope", "itemtype")
_RDFA = _Vocab("property", "typeof", "typeof")


def _value(el, vocab: _Vocab, budget: list[int]) -> object:
    if vocab.is_item(el):
        return _item(el, vocab, budget)
    if el.get("content") is not None:
        return el.get("content")
    tag = el.tag.lower() if isinstance(el.tag, str) else ""
    if tag in ("a", "link"):
        return el.get("href") or text_of(el)
    if tag in ("img", "source"):
        return el.get("src")
    if tag == "time":
        return el.get("datetime") or text_of(el)
    if vocab is _RDFA and el.get("resource") is not None and not len(el) and not (el.text or "").strip():
        return el.get("resource")
    if tag in ("div", "section", "article", "span", "p", "main") and len(el):
        return etree.tostring(el, method="html", encoding="unicode", with_tail=False)
    return text_of(el)


def _item(scope, vocab: _Vocab, budget: list[int]) -> dict:
    """The properties of one item, in document order; a nested item keeps its own properties.
    `budget` caps the elements visited over the whole page (a hostile page cannot make it slow)."""
    item: dict = {"@type": vocab.item_type(scope)}
    stack = list(reversed(scope))
    while stack and budget[0] > 0:
        el = stack.pop()
        budget[0] -= 1
        if not isinstance(el.tag, str):
            continue
        prop = el.get(vocab.prop)
        if prop:
            names = [_local(name) for name in prop.split()[:5]]
            if any(name not in item for name in names):
                value = _value(el, vocab, budget)
                for name in names:
                    item.setdefault(name, value)
            if vocab.is_item(el):
                continue  # its properties belong to the nested item
        stack.extend(reversed(el))
    return item


_MICRODATA_JOB = etree.XPath("//*[@itemscope][contains(@itemtype, 'JobPosting')]")
_RDFA_JOB = etree.XPath("//*[@typeof][contains(@typeof, 'JobPosting')]")
_APPLY_LINKS = etree.XPath("//a[@href][contains(., 'pply') or contains(., 'PPLY')]")


def _structured_job(root) -> dict | None:
    """The page's first JobPosting in microdata, else in RDFa (Lite or prefixed)."""
    for finder, vocab in ((_MICRODATA_JOB, _MICRODATA), (_RDFA_JOB, _RDFA)):
        found = finder(root)
        if found:
            return _item(found[0], vocab, [_MAX_PROPS])
    return None


def _meta(root, prop: str) -> str | None:
    for el in root.iter("meta"):
        if el.get("property") == prop or el.get("name") == prop:
            return el.get("content")
    return None


def site_name(markup: str) -> str | None:
    """og:site_name read from the raw page without parsing it: a forward find, then only the one
    bounded tag around each hit is read (never a pattern over the whole page)."""
    pos = 0
    for _ in range(8):
        i = markup.find("og:site_name", pos)
        if i == -1:
            return None
        pos = i + 12
        start = markup.rfind("<", max(0, i - _MAX_TAG), i)
        end = markup.find(">", i, i + _MAX_TAG)
        if start == -1 or end == -1 or markup[start + 1 : start + 5].lower() != "meta":
            continue
        attrs = tag_attributes(markup[start + 5 : end])
        if "og:site_name" in (attrs.get("property"), attrs.get("name")) and attrs.get("content"):
            return attrs["content"]
    return None


# --- labelled fields ("Location: Portland, ME", <dt>Salary</dt><dd>...</dd>) -----------------

_NOT_LABELS = frozenset({"a", "button", "option", "select", "script", "style", "nav", "footer", "header", "title"})
_MAX_SCAN = 5000  # elements looked at for labels; job facts sit near the top of the content


def _label_candidates(container):
    for el in islice(container.iter(), _MAX_SCAN):
        if isinstance(el.tag, str) and el.tag not in _NOT_LABELS and el.text:
            yield el


def _short_text(el) -> str | None:
    if el is None or not isinstance(el.tag, str) or len(el) > 20:
        return None
    text = text_of(el)
    return text if len(text) <= fields.MAX_VALUE * 2 else None


def labelled_fields(container) -> dict[str, str]:
    """Field -> value for the labels a page states; the first of each wins."""
    found: dict[str, str] = {}
    for el in _label_candidates(container):
        if len(found) == len(fields.LABEL_FIELDS):
            break
        text = el.text
        pair = fields.split_labelled(text.strip()) if ":" in text[: fields.MAX_LABEL + 2] else None
        if pair is None and (field := fields.label_of(text)):
            if len(el):  # <p>Location: <span>Berlin</span></p>
                full = _short_text(el)
                pair = fields.split_labelled(full.strip()) if full and ":" in text else None
            else:  # <dt>Location</dt><dd>Berlin</dd>, <strong>Location:</strong> Berlin
                value = (el.tail or "").strip().lstrip(":：").strip() or _short_text(el.getnext())
                pair = (field, value) if value else None
        if pair is not None and pair[0] not in found:
            value = n.clean_text(pair[1], fields.MAX_VALUE)
            if value:
                found[pair[0]] = value
    return found


def _content_root(root):
    for tag in ("main", "article", "body"):
        if (found := next(root.iter(tag), None)) is not None:
            return found
    return root


def _visible_text(root, body=None) -> str:
    """The content's text without navigation, banners and forms (removed from the tree, so the
    apply link is looked for in the content too). Reads at most MAX_ELEMENTS elements."""
    body = _content_root(root) if body is None else body
    for el in list(islice(body.iter(), n.MAX_ELEMENTS)):
        if not isinstance(el.tag, str) or el is body:
            continue
        marks = f"{el.get('class', '')[:200]} {el.get('id', '')[:200]}"
        noisy = el.tag.lower() in _NOISE or _NOISE_ATTR.search(marks)
        if noisy and el.getparent() is not None:
            el.getparent().remove(el)
    return n.element_text(body) or ""


def _fallback(root, source_url: str) -> Posting | None:
    h1 = next((n.clean_text(text_of(el)) for el in root.iter("h1") if text_of(el).strip()), None)
    title = h1 or n.clean_text(_meta(root, "og:title"))
    if not title:
        return None
    content = _content_root(root)
    labels = labelled_fields(content)
    text = _visible_text(root, content)
    if len(text) < MIN_FALLBACK_TEXT or not _JOB_WORDS.search(text):
        return None
    links = _APPLY_LINKS(root)
    apply_url = links[0].get("href") if links else None
    location = labels.get("location")
    salary = fields.salary_from_text(labels.get("salary"), labelled=True) or fields.Salary(None, None, None, None)
    return Posting(
        source_url=source_url,
        title=title,
        company=n.clean_text(labels.get("company"), 200)
        or fields.employer_from_site_name(_meta(root, "og:site_name"), source_url),
        location=location,
        department=n.clean_text(labels.get("department"), 300),
        employment_type=n.employment_type(labels.get("employment_type")),
        workplace_type=n.workplace_type(labels.get("workplace_type")) or n.workplace_type(location),
        salary_min=salary.low,
        salary_max=salary.high,
        salary_currency=salary.currency,
        salary_period=salary.period,
        description=text[: n.MAX_DESCRIPTION],
        apply_url=apply_url or source_url,
    )


def extract_from_html(markup: str, source_url: str) -> Posting:
    """Raise CrawlError("not_a_job_page") when nothing on the page looks like a posting."""
    posting = jobposting_from_markup(markup, source_url)
    if posting is not None:
        if not posting.company:
            posting.company = fields.employer_from_site_name(site_name(markup), source_url)
        if not posting.description:
            posting.description = _visible_text(parse_html(markup)) or None
        return fields.complete(posting)
    root = parse_html(markup)
    item = _structured_job(root) if "JobPosting" in markup else None
    if item is not None:
        posting = posting_from_jsonld(item, source_url)
        if posting.title:
            if not posting.company:
                posting.company = fields.employer_from_site_name(_meta(root, "og:site_name"), source_url)
            return fields.complete(posting)
    posting = _fallback(root, source_url)
    if posting is None:
        raise CrawlError("not_a_job_page", "no job posting found on the page", url=source_url)
    return fields.complete(posting)


def employer_of_page(url: str) -> str | None:
    """The employer a job page names (its JSON-LD hiringOrganization, else a non-board
    og:site_name); None when the page cannot be fetched or names none. For ATS answers that do not
    name the company (Lever, Ashby) when no company is known."""
    from ingest_app.core.crawl.http import PAGE_TYPES, fetch

    try:
        markup = fetch(url, accept=PAGE_TYPES, robots=True).text
    except CrawlError:
        return None
    posting = jobposting_from_markup(markup, url)
    if posting is not None and posting.company:
        return posting.company
    return fields.employer_from_site_name(site_name(markup), url)
