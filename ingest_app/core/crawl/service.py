"""The crawler's public functions: list a company's jobs (dry run), extract one posting."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from ingest_app.core.crawl.ats_urls import hints_for_url
from ingest_app.core.crawl.extract import extract_from_html
from ingest_app.core.crawl.http import PAGE_TYPES, fetch
from ingest_app.core.crawl.sources import ashby, careers, greenhouse, lever
from ingest_app.core.crawl.types import CrawlError, ListedJob, Posting
from ingest_app.core.crawl.urls import MAX_URL_LENGTH, canonicalize_url
from ingest_app.core.sources import InvalidSourceSpec, SourceSpec, parse_source_spec

_LISTERS = {
    "greenhouse": greenhouse.list_jobs,
    "lever": lever.list_jobs,
    "ashby": ashby.list_jobs,
    "careers": careers.list_jobs,
}
_EXTRACTORS = {"greenhouse": greenhouse.extract, "lever": lever.extract, "ashby": ashby.extract}


def list_company_jobs(spec: SourceSpec | str) -> list[ListedJob]:
    """The jobs a company lists now: canonical, deduplicated URLs. Raises CrawlError."""
    if isinstance(spec, str):
        try:
            spec = parse_source_spec(spec)
        except InvalidSourceSpec as exc:
            raise CrawlError("invalid_url", str(exc)) from None
    lister = _LISTERS.get(spec.kind)
    if lister is None:
        raise CrawlError("invalid_url", f"unknown source kind {spec.kind!r}")
    return _guarded(lambda: lister(spec.value))


def extract_job(url: str, hints: dict | None = None) -> Posting:
    """One normalized posting for a job URL. Raises CrawlError (err.kind, err.reason, err.transient)."""
    return _guarded(lambda: _extract(url, hints))


def _extract(url: str, hints: dict | None) -> Posting:
    source_url = canonicalize_url(url)
    given = dict(hints or {})
    hints = given or hints_for_url(source_url)
    if hints and not given:  # a bare ATS URL (`extract URL`): nobody told us the company's name
        hints["find_company"] = True
    extractor = _EXTRACTORS.get(str(hints.get("source", "")))
    if extractor is not None:
        posting = extractor(hints, source_url)
    else:
        result = fetch(source_url, accept=PAGE_TYPES, robots=True)
        posting = extract_from_html(result.text, source_url)
    if hints.get("company") and not posting.company:
        posting.company = str(hints["company"])[:200]
    posting.apply_url = _safe_link(posting.apply_url, source_url)
    return posting


def _safe_link(link: str | None, base: str) -> str:
    if not link:
        return base
    try:
        absolute = urljoin(base, str(link).strip())
        scheme = urlsplit(absolute).scheme
    except ValueError:
        return base
    return absolute if scheme in ("http", "https") and len(absolute) <= MAX_URL_LENGTH else base


def _guarded(fn):
    try:
        return fn()
    except CrawlError:
        raise
    except RecursionError:
        raise CrawlError("parse_error", "the page is nested too deeply to read") from None
    except MemoryError:
        raise CrawlError("too_large", "the page is too large to read") from None
    except Exception as exc:  # noqa: BLE001 - the contract: typed errors only
        raise CrawlError("parse_error", f"unexpected content ({exc.__class__.__name__}: {exc})"[:300]) from None
