"""schema.org JobPosting from JSON-LD, found with a cheap pre-scan (no full HTML parse)."""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import Iterator
from typing import Any

from ingest_app.core.crawl import fields
from ingest_app.core.crawl import normalize as n
from ingest_app.core.crawl.types import Posting

_MAX_DEPTH = 12
_MAX_TAG = 4096  # an opening <script ...> tag longer than this is not read
_MAX_SCRIPTS = 2000  # scripts looked at per page (real pages have tens)
_MAX_REPAIR = 512 * 1024  # JSON-LD bodies larger than this are parsed as they are, never repaired
_SCRIPT_OPEN = re.compile(r"<script(?=[\s>/])", re.I)
_SCRIPT_END = re.compile(r"</script", re.I)
# Attributes of one bounded opening tag; the three value forms cannot overlap, so no backtracking.
_ATTR = re.compile(r"""([^\s"'=<>/]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_OPENERS = ("<!--", "//<![CDATA[", "/*<![CDATA[*/", "<![CDATA[")
_CLOSERS = ("-->", "//]]>", "/*]]>*/", "]]>")


def tag_attributes(tag: str) -> dict[str, str]:
    """Attributes of one opening tag's text (bounded by the caller), names lower-cased, values
    entity-decoded; the first of a repeated name wins, as in HTML."""
    attrs: dict[str, str] = {}
    for match in _ATTR.finditer(tag):
        attrs.setdefault(match.group(1).lower(), html_lib.unescape((match.group(2) or "").strip("\"'")))
    return attrs


def _script_type(tag: str) -> str:
    return tag_attributes(tag).get("type", "").strip().lower()


def _ld_script_bodies(markup: str) -> Iterator[str]:
    """Bodies of `<script type="application/ld+json">` elements in one forward pass: each script's
    body is skipped whole (it is raw text in HTML), and the type attribute is read the way an HTML
    parser reads it (quotes, case, entities: `ld&#x2B;json` is `ld+json`)."""
    pos, size = 0, len(markup)
    for _ in range(_MAX_SCRIPTS):
        opening = _SCRIPT_OPEN.search(markup, pos) if pos < size else None
        if opening is None:
            return
        tag_end = markup.find(">", opening.end(), opening.end() + _MAX_TAG)
        if tag_end == -1:  # an overlong tag is skipped whole, as a parser would consume it
            tag_end = markup.find(">", opening.end())
            if tag_end == -1:
                return
            pos = tag_end + 1
            continue
        end = _SCRIPT_END.search(markup, tag_end + 1)
        stop = end.start() if end else size
        if "ld+json" in _script_type(markup[opening.end() : tag_end]):
            yield markup[tag_end + 1 : stop]
        pos = end.end() if end else size


def _unwrap(body: str) -> str:
    raw = body.strip()
    for opener in _OPENERS:
        if raw.startswith(opener):
            raw = raw[len(opener) :].lstrip()
            break
    for closer in _CLOSERS:
        if raw.endswith(closer):
            raw = raw[: -len(closer)].rstrip()
            break
    return raw


# A JSON string (closed or running to the end) or a run of anything else: every character is
# consumed by exactly one token, so the scan is linear even on hostile text.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[^"]+')
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def _repair(raw: str) -> str:
    """The slips hand-written JSON-LD often has: trailing commas before } or ]."""
    return "".join(tok if tok.startswith('"') else _TRAILING_COMMA.sub(r"\1", tok) for tok in _JSON_TOKENS.findall(raw))


def _loads(raw: str) -> Any:
    """strict=False accepts raw newlines and tabs inside strings; then trailing commas; then a
    body that was entity-escaped whole."""
    try:
        return json.loads(raw, strict=False)
    except RecursionError:
        raise ValueError("too deep") from None
    except ValueError:
        if len(raw) > _MAX_REPAIR:
            raise
    repaired = _repair(raw)
    for candidate in (repaired, html_lib.unescape(repaired)):
        try:
            return json.loads(candidate, strict=False)
        except RecursionError:
            raise ValueError("too deep") from None
        except ValueError:
            continue
    raise ValueError("not JSON")


def ld_blocks(markup: str) -> Iterator[Any]:
    """Every JSON-LD script that parses (after repairing small slips); the others are skipped."""
    for body in _ld_script_bodies(markup):
        raw = _unwrap(body)
        if not raw:
            continue
        try:
            yield _loads(raw)
        except ValueError:
            continue


def _types(node: dict) -> set[str]:
    """Lower-cased local type names: "http://schema.org/JobPosting", "schema:JobPosting" and
    "jobPosting" are all "jobposting"."""
    value = node.get("@type") or node.get("type") or []
    values = value if isinstance(value, list) else [value]
    return {str(v)[:200].rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower() for v in values}


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
    wanted = type_name.lower()
    return [node for block in blocks for node in iter_nodes(block) if wanted in _types(node)]


def id_index(blocks: list[Any]) -> dict[str, dict]:
    """Nodes by `@id`, so `{"@id": "#org"}` references inside a `@graph` can be followed."""
    index: dict[str, dict] = {}
    for block in blocks:
        for node in iter_nodes(block):
            ref = node.get("@id")
            if isinstance(ref, str) and len(node) > 1 and not set(node) <= {"@id", "@type"}:
                index.setdefault(ref, node)
    return index


def _deref(value: Any, index: dict[str, dict] | None) -> Any:
    if not index:
        return value
    if isinstance(value, list):
        return [_deref(v, index) for v in value[:50]]
    if isinstance(value, dict) and isinstance(value.get("@id"), str) and set(value) <= {"@id", "@type"}:
        return index.get(value["@id"], value)
    return value


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


def _locations(job: dict, index: dict[str, dict] | None = None) -> str | None:
    places = _deref(job.get("jobLocation"), index)
    places = places if isinstance(places, list) else [places] if places else []
    found = []
    for place in places:
        place = _deref(place, index)
        if isinstance(place, str):
            found.append(place)
        elif isinstance(place, dict):
            found.append(_address(_deref(place.get("address"), index)) or _name(place.get("name")))
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


def _first(value: Any) -> Any:
    """A list's first item (None for an empty list); any other value as it is."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _salary(job: dict) -> fields.Salary | None:
    """baseSalary/estimatedSalary in their shapes: MonetaryAmount with a QuantitativeValue (or a
    list of them), a bare number, a text such as "$116K-$213K"; the period from unitText."""
    for key in ("baseSalary", "estimatedSalary"):
        salary = _first(job.get(key))
        if isinstance(salary, (str, int, float)):
            return _scalar_salary(salary, n.currency(job.get("salaryCurrency")))
        if isinstance(salary, dict):
            return _monetary_amount(salary, n.currency(job.get("salaryCurrency")))
    cur = n.currency(job.get("salaryCurrency"))
    return fields.Salary(None, None, cur, None) if cur else None


def _scalar_salary(salary: str | int | float, cur: str | None) -> fields.Salary | None:
    """A bare number, or a text read as a labelled salary (a text with no range: its number)."""
    if isinstance(salary, str) and (found := fields.salary_from_text(salary, labelled=True)):
        return found
    low = n.number(salary)
    return fields.Salary(low, low, cur, None) if low else None


def _monetary_amount(salary: dict, cur: str | None) -> fields.Salary | None:
    """A MonetaryAmount: its value a QuantitativeValue (or a list of them), a number or a text;
    its own currency and unitText win over the posting's. A placeholder amount (0-0) is no
    salary, though a currency stated alone is kept."""
    cur = n.currency(salary.get("currency")) or cur
    unit = fields.period(salary.get("unitText"))
    value = _first(salary.get("value", salary if "minValue" in salary or "maxValue" in salary else None))
    if isinstance(value, dict):
        cur = cur or n.currency(value.get("currency"))
        unit = fields.period(value.get("unitText")) or unit
        low, high = _quantitative_range(value)
    elif isinstance(value, str) and (found := fields.salary_from_text(value, labelled=True)):
        return fields.Salary(found.low, found.high, cur or found.currency, unit or found.period)
    else:
        low = high = n.number(value)
    if fields.placeholder(low, high):
        return fields.Salary(None, None, cur, unit) if low is None and high is None and cur else None
    return fields.Salary(low, high, cur, unit)


def _quantitative_range(value: dict) -> tuple[float | None, float | None]:
    """A QuantitativeValue's minValue-maxValue (one of them stands for both), else its value."""
    if value.get("minValue") is None and value.get("maxValue") is None:
        low = n.number(value.get("value"))
        return low, low
    low, high = n.salary_range(value.get("minValue"), value.get("maxValue"))
    return (low if low is not None else high), (high if high is not None else low)


def _identifier(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("value") or value.get("@id") or value.get("name")
    return str(value).strip()[:200] if value not in (None, "") else None


def _apply_url(job: dict) -> str | None:
    actions = job.get("potentialAction")
    for action in actions if isinstance(actions, list) else [actions]:
        if isinstance(action, dict) and "applyaction" in _types(action):
            target = action.get("target")
            if isinstance(target, dict):
                target = target.get("urlTemplate") or target.get("url")
            if isinstance(target, str):
                return target
    url = job.get("url")
    return url if isinstance(url, str) else None


def posting_from_jsonld(job: dict, source_url: str, index: dict[str, dict] | None = None) -> Posting:
    """One schema.org JobPosting (from JSON-LD, microdata or RDFa) -> Posting; `index` resolves
    `{"@id": ...}` references to other nodes of the page."""
    salary = _salary(job) or fields.Salary(None, None, None, None)
    location = _locations(job, index)
    workplace = (
        "remote"
        if _is_telecommute(job)
        else n.workplace_type(job.get("workplaceType")) or (n.workplace_type(location) if location else None)
    )
    org = _deref(job.get("hiringOrganization"), index)
    if isinstance(org, list):
        org = _deref(org[0], index) if org else None
    department = job.get("department") or (org.get("department") if isinstance(org, dict) else None)
    title = job.get("title") or job.get("name")
    return Posting(
        source_url=source_url,
        title=n.clean_text(title),
        company=_name(org) if not (isinstance(org, dict) and set(org) <= {"@id", "@type"}) else None,
        location=location,
        department=_name(department),
        employment_type=n.employment_type(job.get("employmentType")),
        workplace_type=workplace,
        salary_min=salary.low,
        salary_max=salary.high,
        salary_currency=salary.currency,
        salary_period=salary.period if salary.low is not None else None,
        posted_at=n.parse_date(job.get("datePosted")),
        source_updated_at=n.parse_datetime(job.get("dateModified")),
        description=n.html_to_text(job.get("description")),
        apply_url=_apply_url(job) or source_url,
        external_id=_identifier(job.get("identifier")),
    )


def jobposting_from_markup(markup: str, source_url: str) -> Posting | None:
    """The first JSON-LD JobPosting with a title, or None. The script scan runs on every page (a
    few string finds); JSON is parsed only for ld+json scripts."""
    blocks = list(ld_blocks(markup))
    if not blocks:
        return None
    jobs = find_typed(blocks, "JobPosting")
    if not jobs:
        return None
    index = (
        id_index(blocks)
        if any(
            "@id" in str(job.get("hiringOrganization"))[:300] or "@id" in str(job.get("jobLocation"))[:300]
            for job in jobs
        )
        else None
    )
    for node in jobs:
        posting = posting_from_jsonld(node, source_url, index)
        if posting.title:
            return posting
    return None
