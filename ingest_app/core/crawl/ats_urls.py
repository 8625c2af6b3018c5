"""Recognize well-known ATS job URLs, so their postings are read from the ATS API."""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

_ATS_URLS = (
    (
        re.compile(r"^(?:job-)?boards(?:\.eu)?\.greenhouse\.io$"),
        re.compile(r"^/([^/]+)/jobs/(\d+)/?$"),
        "greenhouse",
        "token",
    ),
    (
        re.compile(r"^jobs(?:\.eu)?\.lever\.co$"),
        re.compile(r"^/([^/]+)/([0-9a-f-]{36})(?:/apply)?/?$"),
        "lever",
        "site",
    ),
    (re.compile(r"^jobs\.ashbyhq\.com$"), re.compile(r"^/([^/]+)/([0-9a-f-]{36})(?:/application)?/?$"), "ashby", "org"),
)


def hints_for_url(url: str) -> dict:
    """ATS hints for a well-known ATS job URL (so `extract URL` reads the ATS API), else {}."""
    parts = urlsplit(url)
    for host_re, path_re, source, key in _ATS_URLS:
        if host_re.match((parts.hostname or "").lower()) and (m := path_re.match(parts.path)):
            job_id = int(m.group(2)) if source == "greenhouse" else m.group(2)
            return {"source": source, key: m.group(1), "job_id": job_id}
    return _family_hints(url)


@functools.cache
def _public_suffixes(families) -> tuple[str, ...]:
    return tuple(host for family in families for host in family.hosts)


def _family_hints(url: str) -> dict:
    """The other families: the board the URL's public host belongs to, then the job in it."""
    if len(url) > 2048:
        return {}
    from ingest_app.core.crawl.sources import FAMILIES, on_public_host, url_host  # the sources import this

    host = url_host(url)
    if not host.endswith(_public_suffixes(FAMILIES)):  # most links: one check, no family asked
        return {}
    for family in FAMILIES:
        if family.name in ("greenhouse", "lever", "ashby") or family.job_hints is None:
            continue
        if not on_public_host(family, host):
            continue
        try:
            spec = family.match_url(url)
            hints = family.job_hints(spec.split(":", 1)[1], url) if spec else None
        except ValueError:
            continue
        if hints:
            return hints
    return {}
