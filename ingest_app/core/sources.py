"""Company source specs: `greenhouse:TOKEN`, `lever:SITE`, `ashby:ORG`, `careers:URL`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ingest_app.core.models import SOURCE_KINDS

_SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class InvalidSourceSpec(ValueError):
    """The spec cannot be used; the message says how to write a valid one."""


@dataclass(frozen=True)
class SourceSpec:
    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


def parse_source_spec(text: str) -> SourceSpec:
    text = (text or "").strip()
    kind, sep, value = text.partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in SOURCE_KINDS:
        raise InvalidSourceSpec("Source must look like greenhouse:TOKEN, lever:SITE, ashby:ORG or careers:URL")
    return make_source_spec(kind, value)


def make_source_spec(kind: str, value: str) -> SourceSpec:
    kind = (kind or "").strip().lower()
    value = (value or "").strip()
    if "\x00" in value:
        raise InvalidSourceSpec("A source must not contain NUL characters")
    if kind not in SOURCE_KINDS:
        raise InvalidSourceSpec(f"Unknown source kind {kind!r}; use one of {', '.join(SOURCE_KINDS)}")
    if kind == "careers":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidSourceSpec("A careers page must be an http:// or https:// URL with a host")
        if len(value) > 2048:
            raise InvalidSourceSpec("A careers page URL must be at most 2048 characters")
        return SourceSpec(kind, value)
    if not _SLUG_RE.match(value):
        label = {"greenhouse": "board token", "lever": "site name", "ashby": "organization name"}[kind]
        raise InvalidSourceSpec(f"The {kind} {label} must be 1-100 letters, digits, '.', '_' or '-' (got {value!r})")
    return SourceSpec(kind, value)
