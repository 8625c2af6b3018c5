"""Field normalization shared by every source: text, types, salaries, dates."""

from __future__ import annotations

import html as html_lib
import math
import re
from datetime import UTC, date, datetime
from typing import Any

from lxml import etree

_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, recover=True)
_DROP_TAGS = {
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "head",
    "title",
    "button",
    "select",
    "textarea",
    "form",
    "canvas",
    "video",
    "audio",
}
_BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "ul",
    "ol",
    "table",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "dl",
    "dt",
    "dd",
    "main",
    "aside",
    "nav",
    "figure",
    "hr",
}
# One way to match each "<": the two optional spaces runs cannot trade characters (no backtracking).
_TAG_LIKE = re.compile(r"<\s*(?:/\s*)?[A-Za-z!]")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")
MAX_DESCRIPTION = 100_000
MAX_MARKUP = 1_000_000  # description markup read (the text is cut at MAX_DESCRIPTION anyway)
MAX_SHORT_INPUT = 20_000  # input read for a short field (title, location, ...)


MAX_ELEMENTS = 20_000  # elements read for one text; a real job page has a few thousand


def _walk(node, out: list[str], budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        return
    tag = node.tag if isinstance(node.tag, str) else ""
    tag = tag.lower()
    if tag in _DROP_TAGS:
        if node.tail:
            out.append(node.tail)
        return
    block = tag in _BLOCK_TAGS
    if block:
        out.append("\n")
    elif tag == "li":
        out.append("\n- ")
    elif tag == "br":
        out.append("\n")
    elif tag in ("td", "th"):
        out.append(" ")
    if node.text:
        out.append(node.text)
    for child in node:
        if budget[0] <= 0:
            break
        _walk(child, out, budget)
    if block:
        out.append("\n")
    if node.tail:
        out.append(node.tail)


def _clean_whitespace(text: str) -> str:
    lines = [line.strip() for line in _SPACES.sub(" ", text).split("\n")]
    text = "\n".join(lines)
    return _BLANK_LINES.sub("\n\n", text).strip()


def element_text(element) -> str | None:
    """Plain text of a parsed element (script/style dropped, blocks on their own lines)."""
    out: list[str] = []
    _walk(element, out, [MAX_ELEMENTS])
    text = "".join(out)
    if _TAG_LIKE.search(text):  # escaped markup inside the page text
        return html_to_text(text)
    return _clean_whitespace(text)[:MAX_DESCRIPTION] or None


def html_to_text(markup: str | None) -> str | None:
    """Untrusted HTML -> plain text. Script/style content is dropped, never kept as text; markup
    escaped several times over is unwrapped until no tag remains."""
    if markup is None:
        return None
    text = str(markup)[:MAX_MARKUP]
    for _ in range(4):
        if "<" not in text and "&" not in text:
            break
        if "<" not in text:
            text = html_lib.unescape(text)
            continue
        root = etree.fromstring(f"<html><body><div>{text}</div></body></html>", _PARSER)
        if root is None:
            text = _TAG_LIKE.sub(" ", text)
            break
        out: list[str] = []
        for child in root.iter("body"):
            _walk(child, out, [MAX_ELEMENTS])
            break
        text = "".join(out)
        if not _TAG_LIKE.search(text):
            break
    else:
        text = _TAG_LIKE.sub(" ", text)
    text = _clean_whitespace(text)
    return text[:MAX_DESCRIPTION] or None


def clean_text(value: Any, limit: int = 500) -> str | None:
    """A short single-line field (title, location...): entities decoded, tags and spaces squeezed."""
    if isinstance(value, (list, tuple)):
        value = next((v for v in value if v not in (None, "", [], {})), None)
    if isinstance(value, dict):
        value = value.get("name") or value.get("text") or value.get("value")
    if value is None or isinstance(value, (dict, list, tuple)):
        return None
    text = str(value)[:MAX_SHORT_INPUT]
    if "<" in text or "&" in text:
        text = html_to_text(text) or ""
    text = _SPACES.sub(" ", text.replace("\n", " ")).strip()
    return text[:limit] or None


_EMPLOYMENT = (
    (
        "internship",
        ("intern", "interns", "internship", "internships", "apprentice", "apprenticeship", "trainee", "stage",
         "praktikum", "co op", "coop", "werkstudent", "working student"),
    ),
    (
        "temporary",
        ("temporary", "temp", "seasonal", "fixed term", "fixed-term", "fixedterm", "short term", "short-term",
         "shortterm", "befristet", "cdd", "interim"),
    ),
    ("contract", ("contract", "contractor", "freelance", "freelancer", "consultant", "per diem", "contingent")),
    ("part_time", ("part time", "part-time", "parttime", "part_time", "teilzeit", "temps partiel", "casual")),
    (
        "full_time",
        ("full time", "full-time", "fulltime", "full_time", "permanent", "regular", "salaried", "vollzeit",
         "unbefristet", "festanstellung", "cdi", "temps plein", "long term", "long-term"),
    ),
)  # fmt: skip


_KEYS = tuple((kind, tuple(" " + re.sub(r"[^a-z]+", " ", key) + " " for key in keys)) for kind, keys in _EMPLOYMENT)
_CAMEL = re.compile(r"([a-z])([A-Z])")
_NON_LETTERS = re.compile(r"[^a-z]+")


def keywordize(value: str) -> str:
    """Lower-case words between single spaces, e.g. " hybrid remote " from "Hybrid/Remote" (for whole-word
    `in` tests). Long values are cut first: a type is never stated in kilobytes."""
    return " " + _NON_LETTERS.sub(" ", _CAMEL.sub(r"\1 \2", value[:300]).lower()).strip() + " "


_keywordize = keywordize


def employment_type(value: Any) -> str | None:
    """full_time|part_time|contract|internship|temporary|None from ATS/schema.org spellings."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        for item in value:
            if found := employment_type(item):
                return found
        return None
    words = _keywordize(str(value))
    for kind, keys in _KEYS:
        if any(key in words for key in keys):
            return kind
    return None


def workplace_type(value: Any) -> str | None:
    """remote|hybrid|onsite|None from ATS/schema.org spellings (TELECOMMUTE is remote)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        found = [workplace_type(v) for v in value]
        for kind in ("hybrid", "remote", "onsite"):
            if kind in found:
                return kind
        return None
    words = _keywordize(str(value))
    if " hybrid " in words:
        return "hybrid"
    if any(k in words for k in (" remote ", " telecommute ", " work from home ", " wfh ", " anywhere ")):
        return "remote"
    if any(k in words for k in (" on site ", " onsite ", " in office ", " office ", " in person ")):
        return "onsite"
    return None


def number(value: Any) -> float | None:
    """A non-negative finite amount from a number or text such as "65,000", "120k"; else None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            amount = float(value)
        else:
            text = str(value)[:64].strip().lower().replace(",", "").replace("_", "").replace(" ", "")
            match = re.search(r"\d+(?:\.\d+)?", text)
            if not match:
                return None
            amount = float(match.group(0))
            if text[match.end() : match.end() + 1] == "k":
                amount *= 1000
    except (OverflowError, ValueError):
        return None
    return amount if math.isfinite(amount) and 0 <= amount < 1e12 else None


def currency(value: Any) -> str | None:
    if not value:
        return None
    text = str(value)[:16].strip().upper()
    symbols = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "US$": "USD", "CA$": "CAD", "C$": "CAD", "A$": "AUD"}
    if text in symbols:
        return symbols[text]
    return text if re.fullmatch(r"[A-Z]{3}", text) else None


def salary_range(low: Any, high: Any) -> tuple[float | None, float | None]:
    lo, hi = number(low), number(high)
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    return lo, hi


def parse_date(value: Any) -> date | None:
    """ISO dates/datetimes, epoch seconds or milliseconds -> date (UTC)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 10_000_000_000 else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC).date()
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()[:64]
    if text.isdigit():
        return parse_date(int(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (parsed.astimezone(UTC) if parsed.tzinfo else parsed).date()
    except ValueError:
        pass
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if match:
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return None
    return None


def parse_datetime(value: Any) -> datetime | None:
    """ISO datetimes (a date alone is midnight UTC), epoch seconds or milliseconds -> aware UTC."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 10_000_000_000 else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()[:64]
    if text.isdigit():
        return parse_datetime(int(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        day = parse_date(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def join_locations(values: list[Any]) -> str | None:
    seen: list[str] = []
    for value in values:
        text = clean_text(value, 300)
        if text and text not in seen:
            seen.append(text)
    return "; ".join(seen)[:1000] or None
