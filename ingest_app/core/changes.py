"""What changed in each run: new, closed, reopened, changed (before/after) and reposted jobs.

Recorded by the job writes themselves (core/jobs.py), in the caller's transaction: the worker's
item transaction (the same one that moves the item out of `pending` and counts it), and the
stage-3 archiving transaction for `closed`. So a change is recorded exactly when the job write
commits, never for a duplicate delivery, and never without the write.

- **new**: a URL never seen for this user;
- **reposted**: a new URL whose company + normalized title + location match a job of the user
  closed in the last 30 days (shown instead of "new");
- **reopened**: an archived job listed again (the job's `times_reopened` goes up);
- **changed**: title, location, salary, employment or workplace type differ (before/after kept);
- **closed**: archived by stage 3 of this run.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ingest_app.core.models import CHANGE_KINDS, Job, RunChange, as_utc

if TYPE_CHECKING:
    from ingest_app.core.pipeline.read_models import HistoryEntry

JOBS = Job.__table__
CHANGES = RunChange.__table__
REPOST_WINDOW = timedelta(days=30)
# The fields whose edits count as "changed" (description edits are too noisy to notify about).
TRACKED_FIELDS = (
    "title",
    "location",
    "salary_min",
    "salary_max",
    "salary_currency",
    "employment_type",
    "workplace_type",
)
_SNAPSHOT_COLUMNS = (JOBS.c.id, JOBS.c.source_url, JOBS.c.status, JOBS.c.company, *(JOBS.c[f] for f in TRACKED_FIELDS))
_LOOKUP_CHUNK = 500


def normalize_text(value: str | None) -> str:
    """Case-, accent- and punctuation-insensitive form used to match reposts: "Sr. Engineer (m/f)"
    and "sr engineer m f" are the same. Linear in the input; no regex."""
    if not value:
        return ""
    folded = unicodedata.normalize("NFKD", value[:1000]).casefold()
    chars = [c if c.isalnum() else " " for c in folded if not unicodedata.combining(c)]
    return " ".join("".join(chars).split())


def repost_key(company: str | None, title: str | None, location: str | None) -> tuple[str, str, str]:
    return normalize_text(company), normalize_text(title), normalize_text(location)


@dataclass
class Before:
    """The user's jobs as they were just before an upsert: `jobs` by source URL, and `closed`,
    the jobs of the same companies closed in the last 30 days (repost candidates) by repost key."""

    jobs: dict[str, Any]
    closed: dict[tuple[str, str, str], int]


def _snapshot_query(with_closed: bool, for_update: bool) -> sa.Select:
    """The snapshot query, built once per variant (building it per call cost a quarter of a
    millisecond of CPU per recording transaction): the jobs of `p_urls` and, `with_closed`, the
    jobs of `p_names` closed since `p_since`."""
    key = (with_closed, for_update)
    query = _SNAPSHOT_QUERIES.get(key)
    if query is None:
        user = JOBS.c.user_id == sa.bindparam("p_user_id")
        wanted = sa.and_(user, JOBS.c.source_url.in_(sa.bindparam("p_urls", expanding=True)))
        # Each branch of the OR is a whole condition on an index (user_id, source_url) or
        # (user_id, status, company), so PostgreSQL combines two index scans instead of scanning.
        recently_closed = sa.and_(
            user,
            JOBS.c.status == "archived",
            JOBS.c.company.in_(sa.bindparam("p_names", expanding=True)),
            JOBS.c.archived_at >= sa.bindparam("p_since", type_=JOBS.c.archived_at.type),
        )
        query = (
            sa.select(
                *_SNAPSHOT_COLUMNS,
                JOBS.c.archived_at,
                JOBS.c.source_url.in_(sa.bindparam("p_wanted", expanding=True)).label("wanted"),
            )
            .where(sa.or_(wanted, recently_closed) if with_closed else wanted)
            .order_by(JOBS.c.source_url)
        )
        if for_update:
            query = query.with_for_update()
        _SNAPSHOT_QUERIES[key] = query
    return query


_SNAPSHOT_QUERIES: dict[tuple[bool, bool], sa.Select] = {}


def snapshot_before(
    conn: sa.Connection, *, user_id: int, urls: Sequence[str], companies: Iterable[str], now: datetime
) -> Before:
    """One query per 500 URLs (one for a worker batch): the existing jobs of these URLs and the
    recently closed jobs of these companies, row-locked on PostgreSQL in source URL order (the
    order the upsert locks rows in, so concurrent writers queue instead of deadlocking)."""
    jobs: dict[str, Any] = {}
    closed: dict[tuple[str, str, str], int] = {}
    ordered = sorted(set(urls))
    names = sorted(set(companies))
    for_update = conn.dialect.name == "postgresql"
    candidates: list[Any] = []
    for start in range(0, max(1, len(ordered)), _LOOKUP_CHUNK):
        chunk = ordered[start : start + _LOOKUP_CHUNK]
        with_closed = start == 0 and bool(names)
        params: dict[str, Any] = {"p_user_id": user_id, "p_urls": chunk, "p_wanted": chunk}
        if with_closed:
            params |= {"p_names": names, "p_since": now - REPOST_WINDOW}
        for row in conn.execute(_snapshot_query(with_closed, for_update), params):
            if row.wanted:
                jobs[row.source_url] = row
            else:
                candidates.append(row)
    for row in sorted(candidates, key=lambda r: (as_utc(r.archived_at), r.id)):  # the latest closing wins
        closed[repost_key(row.company, row.title, row.location)] = row.id
    return Before(jobs=jobs, closed=closed)


def _comparable(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name.startswith("salary_") and name != "salary_currency":
        return float(value)
    return value.strip() if isinstance(value, str) else value


def field_changes(old: Any, new: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(before, after) of the tracked fields that differ; empty when nothing tracked changed."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name in TRACKED_FIELDS:
        was, now = _comparable(name, getattr(old, name)), _comparable(name, new.get(name))
        if was != now:
            before[name], after[name] = was, now
    return before, after


def _change(run_id: int, user_id: int, job_id: int, kind: str, row: Mapping[str, Any], now: datetime, **extra) -> dict:
    return {
        "run_id": run_id,
        "user_id": user_id,
        "job_id": job_id,
        "kind": kind,
        "company": str(row.get("company") or "")[:200],
        "title": row.get("title"),
        "location": row.get("location"),
        "source_url": row["source_url"],
        "before": extra.get("before"),
        "after": extra.get("after"),
        "related_job_id": extra.get("related_job_id"),
        "created_at": now,
    }


def record_upserts(
    conn: sa.Connection,
    *,
    user_id: int,
    run_id: int | None,
    rows: Sequence[Mapping[str, Any]],
    before: Before,
    job_ids: Mapping[str, int],
    now: datetime,
) -> list[dict[str, Any]]:
    """Record the changes of jobs just upserted (`rows`: the written values; `before`: the
    snapshot taken just before; `job_ids`: source_url -> id after the write). Returns them. A
    write outside a run (`run_id` None) has no run to attribute changes to and records none."""
    if run_id is None:
        return []
    changes: list[dict[str, Any]] = []
    closed = dict(before.closed)
    for row in rows:
        job_id = job_ids.get(row["source_url"])
        if job_id is None:
            continue
        old = before.jobs.get(row["source_url"])
        if old is None:
            related = closed.pop(repost_key(row.get("company"), row.get("title"), row.get("location")), None)
            if related is not None:
                changes.append(_change(run_id, user_id, job_id, "reposted", row, now, related_job_id=related))
            else:
                changes.append(_change(run_id, user_id, job_id, "new", row, now))
            continue
        if old.status == "archived":
            changes.append(_change(run_id, user_id, job_id, "reopened", row, now))
        was, became = field_changes(old, row)
        if was or became:
            changes.append(_change(run_id, user_id, job_id, "changed", row, now, before=was, after=became))
    insert_changes(conn, changes)
    return changes


_CHANGE_COLUMNS = (
    ("run_id", "integer"),
    ("user_id", "integer"),
    ("job_id", "integer"),
    ("kind", "text"),
    ("company", "text"),
    ("title", "text"),
    ("location", "text"),
    ("source_url", "text"),
    ("before", "jsonb"),
    ("after", "jsonb"),
    ("related_job_id", "integer"),
    ("created_at", "timestamptz"),
)
# All of a transaction's change rows in one prebuilt statement, one array parameter per column
# (an executemany INSERT built its parameters row by row: ~1 ms of CPU per recording transaction).
_MANY_CHANGES = sa.text(
    f"INSERT INTO {CHANGES.name} ({', '.join(name for name, _ in _CHANGE_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"CAST(:p_{name} AS {kind}[])" for name, kind in _CHANGE_COLUMNS)
    + ")"
)


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def insert_changes(conn: sa.Connection, changes: list[dict[str, Any]]) -> None:
    if not changes:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(sa.insert(CHANGES), changes)
        return
    params = {f"p_{name}": [change[name] for change in changes] for name, _ in _CHANGE_COLUMNS}
    params["p_before"] = [_json_or_none(change["before"]) for change in changes]
    params["p_after"] = [_json_or_none(change["after"]) for change in changes]
    conn.execute(_MANY_CHANGES, params)


def record_closed(conn: sa.Connection, *, user_id: int, run_id: int, closed_rows: Iterable[Any], now: datetime) -> None:
    """Record `closed` for the jobs stage 3 just archived (rows with id, company, title, ...)."""
    insert_changes(
        conn,
        [
            _change(
                run_id,
                user_id,
                r.id,
                "closed",
                {"company": r.company, "title": r.title, "location": r.location, "source_url": r.source_url},
                now,
            )
            for r in closed_rows
        ],
    )


# --- reading ------------------------------------------------------------------------------------

SUMMARY_ORDER = ("new", "reposted", "reopened", "changed", "closed")


@dataclass(frozen=True)
class ChangeSummary:
    new: int = 0
    closed: int = 0
    reopened: int = 0
    changed: int = 0
    reposted: int = 0

    @property
    def total(self) -> int:
        return self.new + self.closed + self.reopened + self.changed + self.reposted

    @property
    def text(self) -> str:
        """ "+12 new · 3 closed · 1 reposted"; "no changes" when nothing changed."""
        parts = []
        for kind in SUMMARY_ORDER:
            count = getattr(self, kind)
            if count:
                parts.append(f"+{count} new" if kind == "new" else f"{count} {kind}")
        return " · ".join(parts) if parts else "no changes"

    def as_dict(self) -> dict[str, Any]:
        return {kind: getattr(self, kind) for kind in CHANGE_KINDS} | {"total": self.total, "text": self.text}


def summaries(conn: sa.Connection | Any, run_ids: Sequence[int]) -> dict[int, ChangeSummary]:
    """run_id -> its change counts, for many runs in one grouped query."""
    ids = sorted(set(run_ids))
    if not ids:
        return {}
    rows = conn.execute(
        sa.select(CHANGES.c.run_id, CHANGES.c.kind, sa.func.count())
        .where(CHANGES.c.run_id.in_(ids))
        .group_by(CHANGES.c.run_id, CHANGES.c.kind)
    ).all()
    counts: dict[int, dict[str, int]] = {run_id: {} for run_id in ids}
    for run_id, kind, count in rows:
        counts[run_id][kind] = count
    return {run_id: ChangeSummary(**c) for run_id, c in counts.items()}


def change_dict(row: Any, now: datetime) -> dict[str, Any]:
    first_seen = as_utc(row.first_seen_at)
    return {
        "job_id": row.job_id,
        "kind": row.kind,
        "company": row.company,
        "title": row.title,
        "location": row.location,
        "source_url": row.source_url,
        "before": row.before,
        "after": row.after,
        "related_job_id": row.related_job_id,
        "first_seen_at": first_seen,
        "last_seen_at": as_utc(row.last_seen_at),
        "times_reopened": row.times_reopened,
        "open_days": max(0, (now - first_seen).days) if first_seen else None,
        "status": row.status,
    }


def list_changes(
    conn: sa.Connection | Any,
    *,
    run_id: int,
    kinds: Sequence[str] | None = None,
    limit: int = 200,
    offset: int = 0,
    now: datetime,
) -> list[dict[str, Any]]:
    """The changes of one run (optionally of some kinds), with the job's first/last seen."""
    query = (
        sa.select(
            CHANGES,
            JOBS.c.first_seen_at,
            JOBS.c.last_seen_at,
            JOBS.c.times_reopened,
            JOBS.c.status,
        )
        .select_from(CHANGES.join(JOBS, JOBS.c.id == CHANGES.c.job_id))
        .where(CHANGES.c.run_id == run_id)
        .order_by(CHANGES.c.kind, CHANGES.c.company, CHANGES.c.title, CHANGES.c.id)
        .limit(max(1, min(limit, 1000)))
        .offset(max(0, offset))
    )
    if kinds:
        query = query.where(CHANGES.c.kind.in_(list(kinds)))
    return [change_dict(row, now) for row in conn.execute(query)]


def get_run_changes(
    session: Any,
    user_id: int,
    run_id: int,
    *,
    kinds: Sequence[str] | None = None,
    limit: int = 200,
    offset: int = 0,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One of the user's runs: its change summary and the changes themselves (RunNotFound for a
    run that is not theirs)."""
    from ingest_app.core.models import IngestionRun, utcnow
    from ingest_app.core.pipeline.errors import RunNotFound

    runs = IngestionRun.__table__
    owner = session.execute(sa.select(runs.c.user_id).where(runs.c.run_id == run_id)).scalar()
    if owner is None or owner != user_id:
        raise RunNotFound(run_id)
    unknown = sorted(set(kinds or ()) - set(CHANGE_KINDS))
    if unknown:
        raise ValueError(f"unknown change kind(s): {', '.join(unknown)}; use {', '.join(CHANGE_KINDS)}")
    summary = summaries(session, [run_id])[run_id]
    return {
        "run_id": run_id,
        "summary": summary.as_dict(),
        "changes": list_changes(session, run_id=run_id, kinds=kinds, limit=limit, offset=offset, now=now or utcnow()),
    }


def attach_summaries(session: Any, entries: list[HistoryEntry]) -> list[HistoryEntry]:
    """History entries with their `changes` summary added, in one query."""
    from ingest_app.core.pipeline.read_models import RunChangeSummary  # the pipeline imports this module

    found = summaries(session, [e.run_id for e in entries])
    return [
        e.model_copy(update={"changes": RunChangeSummary(**found.get(e.run_id, ChangeSummary()).as_dict())})
        for e in entries
    ]
