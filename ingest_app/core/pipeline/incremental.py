"""Incremental runs: requests are the cost, so a run asks only for what may have changed.

- **Listings that carry postings** (`RICH_FAMILIES`) are read as postings: stage 3 stores each
  normalized posting the listing carries on its item (`ingestion_run_items.posting`) and the worker
  records it without a per-job request; a listed job without one is fetched per job. Greenhouse's
  single-job answer adds the pay range, so the worker fetches it for the Greenhouse items it gets,
  and it gets only new or changed jobs: an item whose job is active with the same
  `source_updated_at` is finished in stage 3 (`finish_unchanged`: counted processed, not added;
  the job's `last_seen_at` refreshed) and never sent.
- **Conditional re-fetches.** The ETag / Last-Modified of every 200 answer is kept per user and URL
  (`http_validators`). A listing read by GET requests stores its result (URLs, hints, update
  times) with the first page's validators and, for a listing of several pages, the other pages'
  validators; a 304 to the first page, then to every other page asked conditionally, is still a
  complete listing (it archives exactly what the stored one would); any other answer lists it in
  full. A listing that takes a POST (Workday, Workable's v3 API) is listed in full. A job page is
  fetched conditionally only while the user's job for it is active; a 304 records the item as
  succeeded and unchanged.

The worker's side (one item's crawl, its page validators, the 304 touches) is pipeline/job_pages.py.

Validators are per user because a 304 says "unchanged since what *this user's* jobs were built
from"; they are written in the same transaction as what was built from the answer (the listing's
items, the job), so a validator never describes a page whose content was not recorded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ingest_app.core.crawl import deadline, validators
from ingest_app.core.crawl.politeness import HostBusy
from ingest_app.core.crawl.service import capped, guarded, safe_link
from ingest_app.core.crawl.types import CrawlError, JobListing, ListedJob, Posting
from ingest_app.core.jobs import POSTING_FIELDS, posting_values
from ingest_app.core.models import HttpValidator, Job, utcnow
from ingest_app.core.pipeline.listing import Listing
from ingest_app.core.pipeline.listing import list_company as list_unconditionally
from ingest_app.core.settings import get_settings

log = logging.getLogger(__name__)

VALIDATORS = HttpValidator.__table__
JOBS = Job.__table__

# Families whose listing answer may carry full postings: `listing_postings(board)` is the exact
# `list_jobs` listing (same URLs, same `incomplete`) plus the postings that answer carried, possibly
# none (Personio without a feed, Workable read from its v3 API). Jobs without a posting, and every
# job of the other families, are fetched per job.
RICH_FAMILIES = ("greenhouse", "lever", "ashby", "recruitee", "pinpoint", "personio", "teamtailor", "workable")
# Families whose single-job answer adds to the listing's posting (fetched for new/changed jobs).
DETAIL_FAMILIES = ("greenhouse",)


# ----- postings on items ---------------------------------------------------------------------------


def posting_from_dict(data: dict[str, Any]) -> Posting:
    """The Posting stored on an item (`Posting.to_dict()`), dates parsed back."""
    values = {k: v for k, v in data.items() if k in Posting.__dataclass_fields__}
    if values.get("posted_at"):
        values["posted_at"] = datetime.fromisoformat(values["posted_at"]).date()
    if values.get("source_updated_at"):
        values["source_updated_at"] = datetime.fromisoformat(values["source_updated_at"])
    return Posting(**values)


# ----- stage 3: listing --------------------------------------------------------------------------


@dataclass
class Remembered:
    """A listing read by GETs, to store with its first page's validators (the other pages' are in
    `listing["pages"]`)."""

    url: str
    etag: str | None
    last_modified: str | None
    listing: dict[str, Any]


def stored_listings(conn: sa.Connection, user_id: int, *, source: str | None = None) -> dict[str, dict[str, Any]]:
    """The user's stored listings (of one source, or all): first request URL ->
    {etag, last_modified, listing}."""
    query = sa.select(VALIDATORS.c.url, VALIDATORS.c.etag, VALIDATORS.c.last_modified, VALIDATORS.c.listing).where(
        VALIDATORS.c.user_id == user_id, VALIDATORS.c.listing.is_not(None)
    )
    if source is not None:
        query = query.where(VALIDATORS.c.listing["source"].as_string() == source)
    rows = conn.execute(query).all()
    return {
        r.url: {"etag": r.etag, "last_modified": r.last_modified, "listing": r.listing}
        for r in rows
        if isinstance(r.listing, dict)
    }


def _listing_json(source: str, family: str, jobs: JobListing, postings: dict[str, dict], rich: bool) -> dict[str, Any]:
    return {
        "source": source,
        "family": family,
        "incomplete": jobs.incomplete,
        # Read with its postings: a job without a fingerprint had none in the answer.
        "with_postings": rich,
        "jobs": [
            {
                "url": j.url,
                "title": j.title,
                "external_id": j.external_id,
                "hints": j.hints,
                "fingerprint": posting_fingerprint(postings[j.url], family) if j.url in postings else None,
            }
            for j in jobs
        ],
    }


def _from_json(data: dict[str, Any]) -> tuple[JobListing, dict[str, tuple[str, str]]]:
    jobs = JobListing(
        ListedJob(url=j["url"], title=j.get("title"), external_id=j.get("external_id"), hints=j.get("hints") or {})
        for j in data.get("jobs") or []
    )
    jobs.incomplete = data.get("incomplete")
    family = str(data.get("family") or "")
    return jobs, {j["url"]: (family, j["fingerprint"]) for j in data.get("jobs") or [] if j.get("fingerprint")}


def _rich(family) -> bool:
    return family.name in RICH_FAMILIES and family.listing_postings is not None


def _fetch_listing(family, value: str, send: dict) -> tuple[JobListing, dict[str, dict], validators.Conditional]:
    """The listing as `list_jobs` gives it (capped as `list_company_jobs` caps it, so archiving
    and `incomplete` are the same) and, for a rich family, URL -> posting of the listed jobs whose
    listing answer carried one."""
    settings = get_settings()
    with validators.conditional(send) as scope, deadline.within(settings.crawler_listing_timeout):
        if _rich(family):
            jobs, carried = guarded(lambda: family.listing_postings(value))
            postings = {}
            for url, posting in carried.items():
                posting.apply_url = safe_link(posting.apply_url, url)
                postings[url] = posting.to_dict()
        else:
            jobs, postings = guarded(lambda: family.list_jobs(value)), {}
    listing = capped(jobs, settings.crawler_max_jobs_per_company)
    return listing, {url: postings[url] for url in (j.url for j in listing) if url in postings}, scope


def list_company(source: str, stored: dict[str, dict[str, Any]], unchanged_jobs) -> Any:
    """One company's listing for stage 3 (a Listing; never raises but HostBusy): conditional when a
    listing of that URL is stored; a 304 gives the stored listing back, unless the family's
    postings are needed for jobs the user does not have unchanged (then it is listed again). Jobs
    the listing carried no posting for are items without one either way (fetched per job)."""
    from ingest_app.core.crawl.sources import get_family
    from ingest_app.core.sources import InvalidSourceSpec, parse_source_spec

    try:
        spec = parse_source_spec(source)
    except InvalidSourceSpec:
        return list_unconditionally(source, raise_busy=True)
    family = get_family(spec.kind)
    if family is None:
        return list_unconditionally(source, raise_busy=True)
    send = {url: (s["etag"], s["last_modified"]) for url, s in stored.items() if s["listing"].get("source") == source}
    try:
        try:
            jobs, postings, scope = _fetch_listing(family, spec.value, send)
        except validators.NotModified as answer:
            cached = stored.get(answer.url or "")
            if (
                cached is not None
                and cached["listing"].get("source") == source
                and _other_pages_unchanged(cached["listing"])
            ):
                jobs, updated = _from_json(cached["listing"])
                # Which jobs the stored answer carried postings for is known when it was read with
                # them (or when every job has a fingerprint); a listing stored before its family
                # was read so is listed again, once.
                known = bool(cached["listing"].get("with_postings")) or len(updated) == len(jobs)
                if not _rich(family) or (known and unchanged_jobs(updated)):
                    return Listing(jobs=list(jobs), incomplete=jobs.incomplete, updated=updated, not_modified=True)
            jobs, postings, scope = _fetch_listing(family, spec.value, {})
    except CrawlError as exc:
        return Listing(error=exc)
    except HostBusy:
        raise  # the listing message comes back: a busy host is no failed listing
    except Exception as exc:  # any failure to list means "do not archive this company"
        log.exception("listing %s failed unexpectedly", source)
        return Listing(error=CrawlError("connection_error", f"{type(exc).__name__}: {exc}"))
    return Listing(
        jobs=list(jobs),
        incomplete=jobs.incomplete,
        postings=postings,
        updated={url: (family.name, posting_fingerprint(p, family.name)) for url, p in postings.items()},
        remember=_remember(scope, _listing_json(source, family.name, jobs, postings, _rich(family))),
    )


def _remember(scope: validators.Conditional, listing: dict[str, Any]) -> Remembered | None:
    """What to store of a listing read by GETs only, every one answered with validators: the first
    page's validators with the listing, and the other pages' in it (`pages`: [url, etag,
    last-modified, robots]), checked again after the first page answers 304. A listing that took a
    POST, or a page without validators, is stored for nothing (the next run lists it in full)."""
    if not scope.fetched or scope.other_answers or any(url not in scope.seen for url in scope.fetched):
        return None
    first, *others = list(dict.fromkeys(scope.fetched))
    if others:
        listing["pages"] = [[url, *scope.seen[url], url in scope.robots] for url in others]
    etag, modified = scope.seen[first]
    return Remembered(first, etag, modified, listing)


def _other_pages_unchanged(listing: dict[str, Any]) -> bool:
    """After the first page of a stored listing answered 304: whether every other page of it
    (`pages`) answers 304 too, asked conditionally one after the other, stopping at the first that
    does not. Any other answer, or any failure, means "list it again"."""
    pages = listing.get("pages") or []
    if not pages:
        return True
    from ingest_app.core.crawl.http import fetch

    try:
        send = {str(url): (etag, modified) for url, etag, modified, _robots in pages}
        robots = {str(url) for url, _etag, _modified, checked in pages if checked}
    except (TypeError, ValueError):  # a stored shape this code does not know
        return False
    with validators.conditional(send), deadline.within(get_settings().crawler_listing_timeout):
        for url in send:
            try:
                fetch(url, accept=None, robots=url in robots)
            except validators.NotModified:
                continue
            except HostBusy:
                raise
            except CrawlError:
                return False
            return False  # answered in full: the page changed
    return True


def list_one(user_id: int, source: str) -> Any:
    """One company's listing for a listing message (stage 3 in the worker): conditional on what
    this user stored for that source; the jobs table is consulted for 304 listings of rich
    families. HostBusy propagates (the message comes back; a busy host is no failed listing)."""
    from ingest_app.core.db import get_engine

    with get_engine().connect() as conn:
        stored = stored_listings(conn, user_id, source=source)

    def unchanged_jobs(updated: dict[str, tuple[str, str]]) -> bool:
        with get_engine().connect() as conn:
            return len(_unchanged_urls(conn, user_id, updated)) == len(updated)

    return list_company(source, stored, unchanged_jobs)


def listing_extra(listing: Any) -> dict[str, Any] | None:
    """What a recorded listing (run_listings.extra) keeps of the incremental fields, as JSON."""
    remember = listing.remember
    if not (listing.postings or listing.updated or remember is not None or listing.not_modified):
        return None
    return {
        "postings": listing.postings,
        "updated": {url: list(value) for url, value in listing.updated.items()},
        "remember": None if remember is None else dataclasses.asdict(remember),
        "not_modified": listing.not_modified,
    }


def listing_extra_fields(extra: dict[str, Any] | None) -> dict[str, Any]:
    """The Listing fields `listing_extra` stored (keyword arguments for Listing)."""
    if not extra:
        return {}
    remember = extra.get("remember")
    return {
        "postings": extra.get("postings") or {},
        "updated": {url: tuple(value) for url, value in (extra.get("updated") or {}).items()},
        "remember": None if remember is None else Remembered(**remember),
        "not_modified": bool(extra.get("not_modified")),
    }


_SALARY = ("salary_min", "salary_max", "salary_currency", "salary_period")


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value if value is None or isinstance(value, str) else str(value)


def fingerprint(values: dict[str, Any], family: str) -> str:
    """A digest of a posting's stored fields (a job row's, or a listing posting's) as the listing
    states them: the fields only the single-job answer adds (DETAIL_FAMILIES) are left out."""
    skip = _SALARY if family in DETAIL_FAMILIES else ()
    data = {name: _canonical(values.get(name)) for name in POSTING_FIELDS if name not in skip}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def posting_fingerprint(posting: dict[str, Any], family: str) -> str:
    return fingerprint(posting_values(posting_from_dict(posting)), family)


def _unchanged_urls(conn: sa.Connection, user_id: int, wanted: dict[str, tuple[str, str]]) -> dict[str, int]:
    """URL -> job id of the user's active jobs that are what the source says now: `wanted` maps a
    URL to (family, fingerprint of the listing's posting)."""
    if not wanted:
        return {}
    found: dict[str, int] = {}
    urls = sorted(wanted)
    columns = [JOBS.c[name] for name in POSTING_FIELDS]
    for start in range(0, len(urls), 5000):
        rows = conn.execute(
            sa.select(JOBS.c.id, JOBS.c.source_url, *columns).where(
                JOBS.c.user_id == user_id,
                JOBS.c.status == "active",
                JOBS.c.source_url.in_(urls[start : start + 5000]),
            )
        ).all()
        for row in rows:
            family, digest = wanted[row.source_url]
            if fingerprint(row._mapping, family) == digest:
                found[row.source_url] = row.id
    return found


# ----- stage 3: inside its transaction -------------------------------------------------------------


def store_listings(conn: sa.Connection, user_id: int, listings: Iterable[Any], now: datetime) -> None:
    rows = [
        {
            "user_id": user_id,
            "url": r.url,
            "etag": r.etag,
            "last_modified": r.last_modified,
            "listing": r.listing,
            "updated_at": now,
        }
        for r in (getattr(listing, "remember", None) for listing in listings)
        if r is not None
    ]
    upsert_validators(conn, rows, with_listing=True)


def finish_unchanged(conn: sa.Connection, run_id: int, user_id: int, updated: dict[str, Any], now: datetime) -> int:
    """Finish in stage 3 the pending items whose job is active and unchanged at the source (same
    `source_updated_at`): succeeded, not added; the jobs' last_seen_at refreshed. The number
    finished (the caller counts them processed in the same transaction)."""
    from ingest_app.core.models import IngestionRunItem

    items = IngestionRunItem.__table__
    unchanged = _unchanged_urls(conn, user_id, updated)
    if not unchanged:
        return 0
    urls = sorted(unchanged)
    finished = 0
    for start in range(0, len(urls), 5000):
        chunk = urls[start : start + 5000]
        finished += conn.execute(
            sa.update(items)
            .where(items.c.run_id == run_id, items.c.state == "pending", items.c.url.in_(chunk))
            .values(state="succeeded", attempts=1, finished_at=now, updated_at=now)
        ).rowcount
        conn.execute(
            sa.update(JOBS)
            .where(JOBS.c.id.in_([unchanged[u] for u in chunk]))
            .values(last_seen_at=now, last_run_id=run_id)
        )
    return finished


def upsert_validators(conn: sa.Connection, rows: list[dict[str, Any]], *, with_listing: bool) -> None:
    """Upsert validator rows (user_id, url, etag, last_modified, updated_at, and `listing` when
    `with_listing`) on PostgreSQL or SQLite."""
    if not rows:
        return
    insert = postgresql.insert(VALIDATORS) if conn.dialect.name == "postgresql" else sqlite.insert(VALIDATORS)
    stmt = insert.values(rows)
    keep = ("etag", "last_modified", "updated_at") + (("listing",) if with_listing else ())
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[VALIDATORS.c.user_id, VALIDATORS.c.url], set_={k: stmt.excluded[k] for k in keep}
        )
    )


__all__ = ["RICH_FAMILIES", "finish_unchanged", "list_company", "list_one", "upsert_validators", "utcnow"]
