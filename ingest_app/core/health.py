"""Board health: what each company's runs said about its board, kept across runs.

Stage 3 calls `record_listings` inside the transaction that applies the listings, so the health
figures, the archive decision and the run's results commit together. The empty-board rule lives
here: a board that lists nothing while the user has active jobs from it is *suspect* and keeps
them for `empty_board_suspect_runs` consecutive runs; the last of them archives.

A board that answers not_found, or lists nothing after listing many jobs, is flagged "moved?".
The worker tick (`check_moved_due`) then looks for the same slug on the other families with the
listing code the stage-2 preview uses, under one deadline per company, and stores the best board it
found; `apply_move` points the company at it. Nothing here fetches on a web request thread: the
on-demand check (`check_moved_now`) runs in the bounded listing pool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session

from ingest_app.core.companies import CompanyError, get_company, update_company
from ingest_app.core.crawl import deadline
from ingest_app.core.crawl.types import ErrorKind, kind_reason
from ingest_app.core.detect import Probe, probe  # a candidate board is probed as a pasted one is
from ingest_app.core.models import Company, CompanyHealthRow, as_utc, utcnow
from ingest_app.core.settings import get_settings

log = logging.getLogger(__name__)

HEALTH = CompanyHealthRow.__table__
COMPANIES = Company.__table__
Status = Literal["healthy", "warning", "failing", "unknown"]
# Families whose boards cannot be guessed from a slug: Workday needs its tenant's data centre and
# site name; a careers page is the company's own site.
_UNGUESSABLE = ("workday", "careers")
_MAX_ERROR = 2000
# Host labels and path segments that name no company (www.acme.com/careers, .../acme/jobs).
_GENERIC_WORDS = frozenset(
    {"www", "careers", "career", "jobs", "job", "apply", "boards", "en", "external", "http:", "https:"}
)


class NoMoveSuggestion(CompanyError):
    """The company has no stored "moved?" suggestion to apply."""


# --- what stage 3 hands in and gets back -------------------------------------------------------


@dataclass(frozen=True)
class ListingOutcome:
    """One company's listing in one run. `listed` is None when the listing failed."""

    company_id: int
    source: str
    listed: int | None
    error_kind: ErrorKind | None = None
    error: str | None = None
    incomplete: bool = False
    active_jobs: int = 0  # the user's active jobs of this company before archiving

    @classmethod
    def from_listing(cls, company_id: int, source: str, listing: Any, active_jobs: int = 0) -> ListingOutcome:
        """From a stage-3 `Listing` (jobs, error, incomplete)."""
        error = listing.error
        return cls(
            company_id=company_id,
            source=source,
            listed=None if error is not None else len({job.url for job in listing.jobs}),
            error_kind=None if error is None else error.kind,
            error=None if error is None else kind_reason(error.kind, error.reason)[:_MAX_ERROR],
            incomplete=bool(listing.incomplete),
            active_jobs=active_jobs,
        )


@dataclass(frozen=True)
class ArchiveVerdict:
    """May stage 3 archive this company's unlisted jobs, and the rule that decided (for the run)."""

    archive: bool
    rule: str


# --- what the UI and the API read ------------------------------------------------------------


@dataclass(frozen=True)
class MovedSuggestion:
    source: str
    family: str
    jobs_listed: int
    checked_at: datetime | None


@dataclass(frozen=True)
class CompanyHealth:
    company_id: int
    status: Status
    last_success_at: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    jobs_now: int | None = None
    jobs_before: int | None = None
    zero_streak: int = 0
    suspect: bool = False
    moved: MovedSuggestion | None = None
    last_checked_at: datetime | None = None
    needs_move_check: bool = False


# --- recording (stage 3) -----------------------------------------------------------------------


def _fresh() -> dict[str, Any]:
    return {
        "consecutive_failures": 0,
        "zero_streak": 0,
        "jobs_now": None,
        "jobs_before": None,
        "last_success_at": None,
        "last_error": None,
        "suspect": False,
        "needs_move_check": False,
        "move_checked_at": None,
        "moved": None,
    }


def _next(prev: dict[str, Any], o: ListingOutcome) -> tuple[dict[str, Any], ArchiveVerdict]:
    """The company's health after this listing, and the archive verdict."""
    s = get_settings()
    runs = s.empty_board_suspect_runs
    state = {k: prev[k] for k in _fresh()}
    if o.listed is None:
        state["consecutive_failures"] += 1
        state["last_error"] = o.error
        if o.error_kind == "not_found":
            state["needs_move_check"] = True
        return state, ArchiveVerdict(False, "kept: listing failed")
    state.update(consecutive_failures=0, last_error=None, jobs_before=prev["jobs_now"], jobs_now=o.listed)
    if o.listed:
        state.update(zero_streak=0, suspect=False, needs_move_check=False, move_checked_at=None, moved=None)
        if o.incomplete:
            return state, ArchiveVerdict(False, "kept: listing incomplete")
        return state, ArchiveVerdict(True, "archived: jobs no longer listed")
    state["zero_streak"] += 1
    if (prev["jobs_now"] or 0) >= s.health_moved_min_jobs:
        state["needs_move_check"] = True
    if o.incomplete:
        return state, ArchiveVerdict(False, "kept: listing incomplete")
    if o.active_jobs <= 0:
        state["suspect"] = False
        return state, ArchiveVerdict(True, "archived: jobs no longer listed")
    streak = state["zero_streak"]
    if streak < runs:
        state["suspect"] = True
        return state, ArchiveVerdict(False, f"kept: empty listing {streak} of {runs} runs")
    state["suspect"] = False
    return state, ArchiveVerdict(True, f"archived: empty for {streak} runs")


def _recorded_verdict(row: dict[str, Any], o: ListingOutcome) -> ArchiveVerdict:
    """The verdict for a run whose outcome is already in `row` (offered again): the streak it
    recorded decides, nothing is counted twice."""
    if o.listed is None:
        return ArchiveVerdict(False, "kept: listing failed")
    if o.incomplete:
        return ArchiveVerdict(False, "kept: listing incomplete")
    if o.listed or o.active_jobs <= 0:
        return ArchiveVerdict(True, "archived: jobs no longer listed")
    streak, runs = row["zero_streak"], get_settings().empty_board_suspect_runs
    if streak < runs:
        return ArchiveVerdict(False, f"kept: empty listing {streak} of {runs} runs")
    return ArchiveVerdict(True, f"archived: empty for {streak} runs")


def record_listings(
    conn: sa.Connection, run_id: int, outcomes: Iterable[ListingOutcome], *, now: datetime | None = None
) -> dict[int, ArchiveVerdict]:
    """Fold one run's listing outcomes into the companies' health; the archive verdict per company.

    Call it inside the transaction that applies the listings (it locks the health rows it
    changes). A run already recorded for a company is not counted twice; a company deleted since
    the run started is skipped. A company whose source changed starts afresh."""
    now = now or utcnow()
    outcomes = list(outcomes)
    ids = sorted({o.company_id for o in outcomes})
    if not ids:
        return {}
    existing = set(conn.execute(sa.select(COMPANIES.c.id).where(COMPANIES.c.id.in_(ids))).scalars())
    rows = {
        r.company_id: r._asdict()
        for r in conn.execute(
            sa.select(HEALTH).where(HEALTH.c.company_id.in_(ids)).order_by(HEALTH.c.company_id).with_for_update()
        )
    }
    verdicts: dict[int, ArchiveVerdict] = {}
    changed: dict[int, dict[str, Any]] = {}
    for o in outcomes:
        if o.company_id not in existing:
            continue
        row = rows.get(o.company_id)
        prev = row if row is not None and row["source"] == o.source else _fresh()
        if row is not None and row["source"] == o.source and row["last_run_id"] == run_id:
            verdicts[o.company_id] = _recorded_verdict(row, o)
            continue
        state, verdicts[o.company_id] = _next(prev, o)
        state.update(company_id=o.company_id, source=o.source, last_run_id=run_id, last_checked_at=now, updated_at=now)
        if o.listed is not None:
            state["last_success_at"] = now
        rows[o.company_id] = changed[o.company_id] = state
    _upsert(conn, list(changed.values()))
    return verdicts


def _upsert(conn: sa.Connection, states: list[dict[str, Any]]) -> None:
    """One INSERT ... ON CONFLICT DO UPDATE per 500 companies (a run may list hundreds)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    for start in range(0, len(states), 500):
        stmt = insert(HEALTH).values(states[start : start + 500])
        columns = [name for name in states[0] if name != "company_id"]
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[HEALTH.c.company_id], set_={name: stmt.excluded[name] for name in columns}
            )
        )


# --- reading -------------------------------------------------------------------------------------


def derive_status(row: Any) -> Status:
    """failing after `health_failing_runs` failed listings in a row; warning for a failed listing,
    a suspect empty board or a board that may have moved; healthy otherwise."""
    if row is None:
        return "unknown"
    if row.last_checked_at is None:  # searched on demand, never listed by a run yet
        return "warning" if row.moved else "unknown"
    if row.consecutive_failures >= get_settings().health_failing_runs:
        return "failing"
    if row.consecutive_failures or row.suspect or row.needs_move_check or row.moved:
        return "warning"
    return "healthy"


def _moved(value: dict[str, Any] | None) -> MovedSuggestion | None:
    if not value or not value.get("source"):
        return None
    checked = value.get("checked_at")
    return MovedSuggestion(
        source=str(value["source"]),
        family=str(value.get("family") or value["source"].split(":", 1)[0]),
        jobs_listed=int(value.get("jobs_listed") or 0),
        checked_at=datetime.fromisoformat(checked) if checked else None,
    )


def _health(company_id: int, row: Any) -> CompanyHealth:
    if row is None:
        return CompanyHealth(company_id=company_id, status="unknown")
    return CompanyHealth(
        company_id=company_id,
        status=derive_status(row),
        last_success_at=as_utc(row.last_success_at),
        consecutive_failures=row.consecutive_failures,
        last_error=row.last_error,
        jobs_now=row.jobs_now,
        jobs_before=row.jobs_before,
        zero_streak=row.zero_streak,
        suspect=row.suspect,
        moved=_moved(row.moved),
        last_checked_at=as_utc(row.last_checked_at),
        needs_move_check=row.needs_move_check,
    )


def health_for_user(session: Session, user_id: int) -> dict[int, CompanyHealth]:
    """Every company of the user -> its health ("unknown" before any run listed it), one query.

    Figures recorded for a source the company no longer has are not shown (the company was
    pointed elsewhere; its next run starts afresh)."""
    rows = session.execute(
        sa.select(COMPANIES.c.id, COMPANIES.c.source_kind, COMPANIES.c.source_value, HEALTH)
        .select_from(COMPANIES.outerjoin(HEALTH, HEALTH.c.company_id == COMPANIES.c.id))
        .where(COMPANIES.c.user_id == user_id)
    ).all()
    out: dict[int, CompanyHealth] = {}
    for r in rows:
        current = r.source is not None and r.source == f"{r.source_kind}:{r.source_value}"
        out[r.id] = _health(r.id, r if current else None)
    return out


def health_of(session: Session, user_id: int, company_id: int) -> CompanyHealth:
    """One company's health; CompanyNotFound for another user's company."""
    get_company(session, user_id, company_id)
    return health_for_user(session, user_id)[company_id]


# --- "moved?" -------------------------------------------------------------------------------------


def _pattern(example_value: str) -> tuple[str, str] | None:
    at = example_value.lower().find("acme")
    if at < 0:
        return None
    return example_value[:at], example_value[at + 4 :]


def board_slug(source: str) -> str | None:
    """The company's name on its board (`acme` in greenhouse:acme or https://acme.recruitee.com/)."""
    from ingest_app.core.crawl.sources import get_family

    kind, _, value = source.partition(":")
    family = get_family(kind)
    value = value.strip()
    if family is None or not value:
        return None
    if family.name == "careers":
        return _own_site_slug(value)
    pattern = _pattern(family.value_example)
    if pattern == ("", ""):  # the value is the slug itself
        return value if _slug_like(value) else None
    slug = _slug_in_pattern(value, pattern) if pattern is not None else None
    return slug if slug is not None else _last_segment_slug(value)


def _own_site_slug(url: str) -> str | None:
    """The company's own site: its name is the host's first real label."""
    from ingest_app.core.crawl.sources import url_host

    labels = [p for p in url_host(url).split(".") if p and p not in _GENERIC_WORDS]
    return labels[0] if len(labels) > 1 and _slug_like(labels[0]) and not labels[0].isdigit() else None


def _slug_in_pattern(value: str, pattern: tuple[str, str]) -> str | None:
    """The part of `value` where the family's example has `acme` (prefix and suffix compared
    without case, a trailing slash optional); None when `value` does not fit the example."""
    prefix, suffix = pattern
    low = value.lower()
    if low.startswith(prefix.lower()) and low.rstrip("/").endswith(suffix.lower().rstrip("/")):
        middle = value[len(prefix) : len(value.rstrip("/")) - len(suffix.rstrip("/"))]
        if _slug_like(middle):
            return middle
    return None


def _last_segment_slug(value: str) -> str | None:
    """A board on another host (a local or white-label base): its last path segment."""
    segments = [p for p in value.split("?", 1)[0].split("/") if p and p.lower() not in _GENERIC_WORDS]
    last = segments[-1] if len(segments) > 1 else ""
    return last if _slug_like(last) else None


def _slug_like(text: str) -> bool:
    return bool(text) and len(text) <= 100 and text.replace("-", "").replace("_", "").isalnum()


def _moved_families() -> list[str]:
    from ingest_app.core.crawl.sources import FAMILIES

    wanted = {n.strip().lower() for n in get_settings().health_moved_families.split(",") if n.strip()}
    return [f.name for f in FAMILIES if f.name not in _UNGUESSABLE and (not wanted or f.name in wanted)]


def candidate_sources(company: Company) -> list[str]:
    """The same slug on every other family a board can be guessed on (valid specs only)."""
    from ingest_app.core.crawl.sources import get_family
    from ingest_app.core.sources import InvalidSourceSpec, make_source_spec

    slug = board_slug(company.source)
    if not slug:
        return []
    out: list[str] = []
    for name in _moved_families():
        family = get_family(name)
        pattern = _pattern(family.value_example)
        if pattern is None:
            continue
        try:
            spec = str(make_source_spec(name, pattern[0] + slug + pattern[1]))
        except (InvalidSourceSpec, ValueError):
            continue
        if spec != company.source and spec not in out:
            out.append(spec)
    return out


def find_moved(company: Company, *, probe_fn: Callable[[str], Probe] = probe) -> list[Probe]:
    """The candidate boards that list jobs now, most jobs first; all under one deadline."""
    found: list[Probe] = []
    with deadline.within(get_settings().health_moved_timeout):
        for source in candidate_sources(company):
            if deadline.remaining() == 0:
                break
            result = probe_fn(source)
            if result.ok and result.jobs_listed > 0:
                found.append(result)
    return sorted(found, key=lambda p: -p.jobs_listed)


def _store_moved(conn: sa.Connection, company_id: int, source: str, found: list[Probe], now: datetime) -> None:
    moved = None
    if found:
        best = found[0]
        moved = {
            "source": best.source,
            "family": best.source.split(":", 1)[0],
            "jobs_listed": best.jobs_listed,
            "checked_at": now.isoformat(),
        }
    conn.execute(
        sa.update(HEALTH)
        .where(HEALTH.c.company_id == company_id, HEALTH.c.source == source)
        .values(moved=moved, move_checked_at=now, updated_at=now)
    )


def check_moved_due(limit: int | None = None, *, probe_fn: Callable[[str], Probe] = probe) -> int:
    """Worker tick: search for the flagged boards not searched since their last run. Each company
    is claimed by a guarded UPDATE first, so two ticks never search the same one. Returns how many
    companies were searched."""
    from ingest_app.core.db import get_engine

    limit = get_settings().health_moved_per_tick if limit is None else limit
    if limit <= 0:
        return 0
    now = utcnow()
    due = (
        sa.select(HEALTH.c.company_id)
        .where(
            HEALTH.c.needs_move_check.is_(True),
            sa.or_(HEALTH.c.move_checked_at.is_(None), HEALTH.c.move_checked_at < HEALTH.c.last_checked_at),
        )
        .order_by(HEALTH.c.last_checked_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with get_engine().begin() as conn:
        claimed = conn.execute(
            sa.update(HEALTH)
            .where(HEALTH.c.company_id.in_(due.scalar_subquery()))
            .values(move_checked_at=now)
            .returning(HEALTH.c.company_id, HEALTH.c.source)
        ).all()
    for company_id, source in claimed:
        with get_engine().connect() as conn:
            row = conn.execute(sa.select(COMPANIES).where(COMPANIES.c.id == company_id)).first()
        if row is None:
            continue
        company = Company(**row._asdict())
        if company.source != source:
            continue  # pointed elsewhere meanwhile
        try:
            found = find_moved(company, probe_fn=probe_fn)
        except Exception:
            log.exception("moved? search for company %s failed", company_id)
            continue
        with get_engine().begin() as conn:
            _store_moved(conn, company_id, source, found, utcnow())
    return len(claimed)


def check_moved_now(user_id: int, company_id: int, *, probe_fn: Callable[[str], Probe] = probe) -> CompanyHealth:
    """On demand, for one of the user's companies: search now and store the result. Runs in the
    listing pool (`check_moved_async`), never on a request thread."""
    from ingest_app.core.db import get_engine, session_scope

    with session_scope() as session:
        company = get_company(session, user_id, company_id)
        session.expunge(company)
    found = find_moved(company, probe_fn=probe_fn)
    with get_engine().begin() as conn:
        exists = conn.execute(sa.select(HEALTH.c.company_id).where(HEALTH.c.company_id == company_id)).first()
        if exists is None:
            conn.execute(sa.insert(HEALTH).values(company_id=company_id, source=company.source, updated_at=utcnow()))
        else:
            conn.execute(
                sa.update(HEALTH)
                .where(HEALTH.c.company_id == company_id, HEALTH.c.source != company.source)
                .values(source=company.source, last_run_id=None, **_fresh())
            )
        _store_moved(conn, company_id, company.source, found, utcnow())
    with session_scope() as session:
        return health_of(session, user_id, company_id)


async def check_moved_async(user_id: int, company_id: int) -> CompanyHealth:
    """`check_moved_now` in the bounded listing pool (PreviewBusy when the user has too many)."""
    import asyncio

    from ingest_app.core import listing_pool

    pool = listing_pool.get_pool()
    future = pool.submit(user_id, lambda: check_moved_now(user_id, company_id))
    return await asyncio.wrap_future(future)


def apply_move(session: Session, user_id: int, company_id: int) -> Company:
    """Point the company at its stored "moved?" suggestion, in one call. Its health starts afresh
    (the next run lists the new board). CompanyNotFound for another user's company,
    NoMoveSuggestion when nothing was found, DuplicateCompany when the user tracks it already."""
    current = health_of(session, user_id, company_id)
    if current.moved is None:
        raise NoMoveSuggestion("No other board was found for this company; nothing to apply")
    company = update_company(session, user_id, company_id, source=current.moved.source)
    session.execute(sa.delete(HEALTH).where(HEALTH.c.company_id == company_id))
    session.flush()
    return company


def statuses(healths: Iterable[CompanyHealth]) -> dict[str, int]:
    """How many companies are in each status (for summaries)."""
    out = {"healthy": 0, "warning": 0, "failing": 0, "unknown": 0}
    for h in healths:
        out[h.status] += 1
    return out


__all__ = [
    "ArchiveVerdict",
    "CompanyHealth",
    "ListingOutcome",
    "MovedSuggestion",
    "NoMoveSuggestion",
    "Probe",
    "apply_move",
    "candidate_sources",
    "check_moved_async",
    "check_moved_due",
    "check_moved_now",
    "find_moved",
    "health_for_user",
    "health_of",
    "record_listings",
]
