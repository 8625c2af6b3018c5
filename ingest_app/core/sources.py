"""Company source specs: `FAMILY:VALUE`. `greenhouse:TOKEN`, `lever:SITE`, `ashby:ORG` (each also
accepts its board URL), `careers:URL`, and `FAMILY:BOARD_URL` for the other ATS families (see
`ingest_app.core.crawl.sources.FAMILIES`). Values are stored normalized, so one board is one spec."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_VALUE_LENGTH = 2048
_NAMED_VALUES = ("greenhouse", "lever", "ashby", "careers")  # a token/name (or URL) rather than a board URL


class InvalidSourceSpec(ValueError):
    """The spec cannot be used; the message says how to write a valid one."""


@dataclass(frozen=True)
class SourceSpec:
    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


def parse_source_spec(text: str) -> SourceSpec:
    from ingest_app.core.crawl.sources import FAMILIES, get_family  # the crawler imports this module

    text = (text or "").strip()
    kind, sep, value = text.partition(":")
    kind = kind.strip().lower()
    if not sep or get_family(kind) is None:
        others = ", ".join(f.name for f in FAMILIES if f.name not in _NAMED_VALUES)
        raise InvalidSourceSpec(
            "Source must look like greenhouse:TOKEN, lever:SITE, ashby:ORG, careers:URL or FAMILY:BOARD_URL "
            f"with FAMILY one of {others} (e.g. {get_family('workday').example})"
        )
    return make_source_spec(kind, value)


def _check_url(value: str, what: str) -> None:
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise InvalidSourceSpec(f"{what} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidSourceSpec(f"{what} must be an http:// or https:// URL with a host")


def make_source_spec(kind: str, value: str) -> SourceSpec:
    from ingest_app.core.crawl.sources import FAMILY_NAMES, get_family
    from ingest_app.core.crawl.types import CrawlError

    kind = (kind or "").strip().lower()
    value = (value or "").strip()
    if "\x00" in value:
        raise InvalidSourceSpec("A source must not contain NUL characters")
    family = get_family(kind)
    if family is None:
        raise InvalidSourceSpec(f"Unknown source kind {kind!r}; use one of {', '.join(FAMILY_NAMES)}")
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidSourceSpec(f"A {family.label} source must be at most {MAX_VALUE_LENGTH} characters")
    if kind == "careers":
        _check_url(value, "A careers page")
        return SourceSpec(kind, value)
    if not value and kind not in _NAMED_VALUES:
        raise InvalidSourceSpec(f"A {family.label} source needs a value, e.g. {family.example}")
    if "://" in value:
        _check_url(value, f"The {family.label} board URL")
    try:
        normalized = family.normalize(value)
    except (ValueError, CrawlError) as exc:
        reason = exc.reason if isinstance(exc, CrawlError) else str(exc)
        if "://" not in value and kind not in _NAMED_VALUES:
            reason = f"a {family.label} source is its board URL (http:// or https://)"
        message = reason[:1].upper() + reason[1:]
        raise InvalidSourceSpec(f"{message} (example: {family.example})") from None
    return SourceSpec(kind, normalized)
