"""Recognize well-known ATS job URLs, so their postings are read from the ATS API."""

from __future__ import annotations

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
    return {}
