"""schema.org JobPosting from JSON-LD, found with a cheap pre-scan (no full HTML parse)."""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import Iterator
from typing import Any

from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.types import Posting

_WRAPPERS = re.compile(
    r"^\s*(?:<!--|//\s*<!\[CDATA\[|/\*\s*<!\[CDATA\[\s*\*/)|(?:-->|//\s*\]\]>|/\*\s*\]\]>\s*\*/)\s*$"
)
_MAX_DEPTH = 12


_SCRIPT_END = re.compile(r"</script", re.I)


def _ld_script_bodies(markup: str) -> Iterator[str]:
    """Bodies of `<script type="application/ld+json">` elements, found with plain string scans
    (several times faster than a regex or an HTML parse on a 50 KB page)."""
    needles = ("ld+json", "LD+JSON", "Ld+Json") if "+J" in markup else ("ld+json",)
    for needle in needles:
        pos = 0
        while (i := markup.find(needle, pos)) != -1:
            pos = i + len(needle)
            start = markup.rfind("<", 0, i)
            if start == -1 or markup[start : start + 7].lower() != "<script":
                continue
            tag_end = markup.find(">", i)
            if tag_end == -1:
                break
            end = _SCRIPT_END.search(markup, tag_end)
            stop = end.start() if end else len(markup)
            yield markup[tag_end + 1 : stop]
            pos = stop


def ld_blocks(markup: str) -> Iterator[Any]:
    """Every JSON-LD script that parses; invalid ones are skipped."""
    for body in _ld_script_bodies(markup):
        raw = _WRAPPERS.sub("", body).strip()
        if not raw:
            continue
        try:
            yield json.loads(raw, strict=False)
        except (ValueError, RecursionError):
            try:  # some sites entity-escape the whole script body
                yield json.loads(html_lib.unescape(raw), strict=False)
            except (ValueError, RecursionError):
                continue


def _types(node: dict) -> set[str]:
    value = node.get("@type") or node.get("type") or []
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1].rsplit(":", 1)[-1] for v in values}


def iter_nodes(data: Any, depth: int = 0) -> Iterator[dict]:
    """Every object in a JSON-LD document: top level, arrays, `@graph`, nested values."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(data, list):
        for item in data:
            yield from iter_nodes(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        for key, value in data.items():
            if isinstance(value, (dict, list)) and key != "@context":
                yield from iter_nodes(value, depth + 1)


def find_typed(blocks: list[Any], type_name: str) -> list[dict]:
    return [node for block in blocks for node in iter_nodes(block) if type_name in _types(node)]


def _name(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return n.clean_text(value, 300)


def _address(value: Any) -> str | None:
    if isinstance(value, str):
        return n.clean_text(value, 300)
    if not isinstance(value, dict):
        return None
    parts = []
    for key in ("addressLocality", "addressRegion", "addressCountry"):
        part = _name(value.get(key))
        if part and part not in parts:
            parts.append(part)
    return ", ".join(parts) or _name(value.get("name")) or n.clean_text(value.get("streetAddress"), 300)


def _locations(job: dict) -> str | None:
    places = job.get("jobLocation")
    places = places if isinstance(places, list) else [places] if places else []
    found = []
    for place in places:
        if isinstance(place, str):
            found.append(place)
        elif isinstance(place, dict):
            found.append(_address(place.get("address")) or _name(place.get("name")))
    location = n.join_locations([f for f in found if f])
    if location:
        return location
    if _is_telecommute(job):
        reqs = job.get("applicantLocationRequirements")
        reqs = reqs if isinstance(reqs, list) else [reqs] if reqs else []
        names = [_name(r) for r in reqs]
        names = [x for x in names if x]
        return f"Remote ({', '.join(names)})" if names else "Remote"
    return None


def _is_telecommute(job: dict) -> bool:
    value = job.get("jobLocationType")
    values = value if isinstance(value, list) else [value]
    return any("telecommute" in str(v).lower() for v in values if v)


def _salary(job: dict) -> tuple[float | None, float | None, str | None]:
    for key in ("baseSalary", "estimatedSalary"):
        salary = job.get(key)
        if isinstance(salary, list):
            salary = salary[0] if salary else None
        if salary is None:
            continue
        cur = n.currency(job.get("salaryCurrency"))
        if isinstance(salary, (int, float, str)):
            low = n.number(salary)
            return low, low, cur
        if not isinstance(salary, dict):
            continue
        cur = n.currency(salary.get("currency")) or cur
        value = salary.get("value", salary if "minValue" in salary or "maxValue" in salary else None)
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, dict):
            cur = cur or n.currency(value.get("currency"))
            if value.get("minValue") is not None or value.get("maxValue") is not None:
                low, high = n.salary_range(value.get("minValue"), value.get("maxValue"))
                return low if low is not None else high, high if high is not None else low, cur
            single = n.number(value.get("value"))
            return single, single, cur
        single = n.number(value)
        if single is not None or cur:
            return single, single, cur
    return None, None, n.currency(job.get("salaryCurrency"))


def _identifier(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("value") or value.get("@id") or value.get("name")
    return str(value).strip()[:200] if value not in (None, "") else None


def _apply_url(job: dict) -> str | None:
    actions = job.get("potentialAction")
    for action in actions if isinstance(actions, list) else [actions]:
        if isinstance(action, dict) and "ApplyAction" in _types(action):
            target = action.get("target")
            if isinstance(target, dict):
                target = target.get("urlTemplate") or target.get("url")
            if isinstance(target, str):
                return target
    url = job.get("url")
    return url if isinstance(url, str) else None


def posting_from_jsonld(job: dict, source_url: str) -> Posting:
    low, high, cur = _salary(job)
    location = _locations(job)
    workplace = (
        "remote"
        if _is_telecommute(job)
        else n.workplace_type(job.get("workplaceType")) or (n.workplace_type(location) if location else None)
    )
    org = job.get("hiringOrganization")
    department = job.get("department") or (org.get("department") if isinstance(org, dict) else None)
    return Posting(
        source_url=source_url,
        title=n.clean_text(job.get("title") or job.get("name")),
        company=_name(org),
        location=location,
        department=_name(department),
        employment_type=n.employment_type(job.get("employmentType")),
        workplace_type=workplace,
        salary_min=low,
        salary_max=high,
        salary_currency=cur,
        posted_at=n.parse_date(job.get("datePosted")),
        description=n.html_to_text(job.get("description")),
        apply_url=_apply_url(job) or source_url,
        external_id=_identifier(job.get("identifier")),
    )


def jobposting_from_markup(markup: str, source_url: str) -> Posting | None:
    """The first JSON-LD JobPosting with a title, or None."""
    if "ld+json" not in markup:
        return None
    blocks = list(ld_blocks(markup))
    for node in find_typed(blocks, "JobPosting"):
        posting = posting_from_jsonld(node, source_url)
        if posting.title:
            return posting
    return None
