"""Helpers shared by the ATS sources."""

from __future__ import annotations

from urllib.parse import quote

from ingest_app.core.crawl.types import CrawlError, ListedJob
from ingest_app.core.crawl.urls import canonicalize_url


def api_url(base: str, *parts: str) -> str:
    return base.rstrip("/") + "/" + "/".join(quote(str(p), safe="") for p in parts)


def listed(url: str | None, fallback: str, title, external_id, hints: dict) -> ListedJob | None:
    try:
        canonical = canonicalize_url(url or fallback)
    except CrawlError:
        return None
    return ListedJob(
        url=canonical,
        title=(str(title).strip()[:500] or None) if title else None,
        external_id=str(external_id) if external_id is not None else None,
        hints=hints,
    )


def dedupe(jobs: list[ListedJob | None]) -> list[ListedJob]:
    seen: dict[str, ListedJob] = {}
    for job in jobs:
        if job is not None and job.url not in seen:
            seen[job.url] = job
    return list(seen.values())


def board_not_found(err: CrawlError, kind: str, name: str) -> CrawlError:
    if err.kind in ("not_found", "gone"):
        return CrawlError("not_found", f"no {kind} board named {name!r}", url=err.url, status=err.status)
    return err
