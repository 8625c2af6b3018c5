"""A user's company configs: list, add, update, delete. Ownership is checked on every call."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ingest_app.core.models import Company, Job, User, utcnow
from ingest_app.core.settings import get_settings
from ingest_app.core.sources import InvalidSourceSpec, make_source_spec, parse_source_spec


class CompanyError(ValueError):
    """Invalid company input; the message is safe to show."""


class CompanyNotFound(LookupError):
    """No such company for this user (another user's company looks the same)."""


class DuplicateCompany(CompanyError):
    pass


class CompanyLimitReached(CompanyError):
    """The user already keeps MAX_COMPANIES_PER_USER companies."""


def clean_name(name: str) -> str:
    """The company name as stored (trimmed), or CompanyError saying why it cannot be: one rule for
    the form, the API and the bulk import."""
    name = (name or "").strip()
    if not name:
        raise CompanyError("Name must not be empty")
    if "\x00" in name:
        raise CompanyError("Name must not contain NUL characters")
    if len(name) > 200:
        raise CompanyError("Name must be at most 200 characters")
    return name


def list_companies(session: Session, user_id: int, *, enabled_only: bool = False) -> list[Company]:
    query = select(Company).where(Company.user_id == user_id)
    if enabled_only:
        query = query.where(Company.enabled.is_(True))
    return list(session.exec(query.order_by(Company.name, Company.id)).all())


def get_company(session: Session, user_id: int, company_id: int) -> Company:
    company = session.get(Company, company_id)
    if company is None or company.user_id != user_id:
        raise CompanyNotFound(f"Company {company_id} not found")
    return company


def add_company(session: Session, user_id: int, *, name: str, source: str, enabled: bool = True) -> Company:
    try:
        spec = parse_source_spec(source)
    except InvalidSourceSpec as exc:
        raise CompanyError(str(exc)) from exc
    company = Company(
        user_id=user_id, name=clean_name(name), source_kind=spec.kind, source_value=spec.value, enabled=enabled
    )
    _check_room(session, user_id)
    return _save(session, company)


def _check_room(session: Session, user_id: int) -> None:
    """Refuse a company past the per-user cap. The user's row is locked first (PostgreSQL), so two
    concurrent adds cannot both pass the count."""
    limit = get_settings().max_companies_per_user
    session.exec(select(User.id).where(User.id == user_id).with_for_update()).first()
    count = session.exec(select(sa.func.count()).select_from(Company).where(Company.user_id == user_id)).one()
    if count >= limit:
        raise CompanyLimitReached(f"You can keep at most {limit} companies; delete one to add another")


def update_company(
    session: Session,
    user_id: int,
    company_id: int,
    *,
    name: str | None = None,
    source: str | None = None,
    enabled: bool | None = None,
) -> Company:
    company = get_company(session, user_id, company_id)
    if name is not None:
        company.name = clean_name(name)
    if source is not None:
        try:
            spec = parse_source_spec(source)
        except InvalidSourceSpec as exc:
            raise CompanyError(str(exc)) from exc
        company.source_kind, company.source_value = spec.kind, spec.value
    if enabled is not None:
        company.enabled = bool(enabled)
    company.updated_at = utcnow()
    return _save(session, company)


def delete_company(session: Session, user_id: int, company_id: int) -> None:
    company = get_company(session, user_id, company_id)
    session.delete(company)
    session.flush()


def _own_ids(session: Session, user_id: int, ids) -> list[int]:
    """The ids in `ids` that are the user's companies; another user's ids (and unknown ones) are
    left out, so a bulk action never touches them and never says whether they exist."""
    wanted = {int(i) for i in ids}
    if not wanted:
        return []
    query = select(Company.id).where(Company.user_id == user_id, Company.id.in_(wanted))
    return sorted(session.exec(query).all())


def set_enabled(session: Session, user_id: int, ids, enabled: bool) -> int:
    """Enable or disable several of the user's companies at once; the number changed. Ids that
    are not the user's are ignored (use `_own_ids` first to name them)."""
    own = _own_ids(session, user_id, ids)
    if not own:
        return 0
    result = session.exec(
        sa.update(Company)
        .where(Company.user_id == user_id, Company.id.in_(own), Company.enabled.is_not(bool(enabled)))
        .values(enabled=bool(enabled), updated_at=utcnow())
    )
    session.expire_all()
    return result.rowcount


def delete_many(session: Session, user_id: int, ids) -> int:
    """Delete several of the user's companies (their jobs stay); the number deleted. Ids that are
    not the user's are ignored."""
    own = _own_ids(session, user_id, ids)
    if not own:
        return 0
    result = session.exec(sa.delete(Company).where(Company.user_id == user_id, Company.id.in_(own)))
    session.expire_all()
    return result.rowcount


def missing_ids(session: Session, user_id: int, ids) -> list[int]:
    """The ids in `ids` that are not the user's companies (another user's look the same)."""
    own = set(_own_ids(session, user_id, ids))
    return sorted({int(i) for i in ids} - own)


def _save(session: Session, company: Company) -> Company:
    session.add(company)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise DuplicateCompany(f"You already track {company.source_kind}:{company.source_value}") from exc
    session.refresh(company)
    return company


# --- the companies page at hundreds of companies: one page of rows, queried, never the whole list ---

SORTS = ("name", "last_run", "jobs", "health")
HEALTH_STATUSES = ("healthy", "warning", "failing", "unknown")
# Worst first: sorting by health puts what needs attention at the top.
_HEALTH_RANK = {"failing": 0, "warning": 1, "unknown": 2, "healthy": 3}
MAX_PAGE_SIZE = 200
MAX_SEARCH_CHARS = 200


@dataclasses.dataclass(frozen=True)
class CompanyListing:
    """One row of the companies page: the config plus what its jobs say about it."""

    id: int
    name: str
    source_kind: str
    source_value: str
    enabled: bool
    jobs: int  # active jobs from this company
    last_seen_at: datetime | None  # when a run last saw one of its listings
    health: str  # one of HEALTH_STATUSES


@dataclasses.dataclass(frozen=True)
class CompanyPage:
    rows: list[CompanyListing]
    total: int  # rows matching the filters (all pages)
    page: int  # 1-based, clamped to the pages there are
    pages: int
    all_count: int  # the user's companies, unfiltered
    enabled_count: int  # the user's enabled companies, unfiltered


def _job_totals(user_id: int):
    """Per company: its active jobs and when a run last saw one of its listings (a subquery the
    page joins, so the counts are sorted and paged in the database)."""
    return (
        select(
            Job.company_id.label("company_id"),
            sa.func.count().filter(Job.status == "active").label("jobs"),
            sa.func.max(Job.last_seen_at).label("last_seen_at"),
        )
        .where(Job.user_id == user_id, Job.company_id.is_not(None))
        .group_by(Job.company_id)
        .subquery()
    )


def _search_filter(search: str):
    """A plain substring match on name or source (ILIKE with the wildcards escaped): no pattern
    from the user. None for an empty search."""
    needle = (search or "").strip()[:MAX_SEARCH_CHARS]
    if not needle:
        return None
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.or_(
        Company.name.ilike(f"%{escaped}%", escape="\\"), Company.source_value.ilike(f"%{escaped}%", escape="\\")
    )


def _health_filter(health_filter: str, health: Mapping[int, str]):
    """Companies whose health is `health_filter`; "unknown" also matches every company `health`
    does not name. None when nothing needs filtering out."""
    if health_filter == "unknown":
        others = [cid for cid, status in health.items() if status != "unknown"]
        return Company.id.not_in(others) if others else None
    named = [cid for cid, status in health.items() if status == health_filter]
    return Company.id.in_(named) if named else sa.false()


def _company_filters(
    user_id: int, search: str, family: str, enabled: bool | None, health_filter: str, health: Mapping[int, str]
) -> list:
    """WHERE clauses for the user's companies and the filters that are set."""
    optional = (
        _search_filter(search),
        Company.source_kind == family if family else None,
        Company.enabled.is_(bool(enabled)) if enabled is not None else None,
        _health_filter(health_filter, health) if health_filter else None,
    )
    return [Company.user_id == user_id, *(clause for clause in optional if clause is not None)]


def _company_order(sort: str, descending: bool, jobs, job_count, health: Mapping[int, str]) -> list:
    """ORDER BY for `sort` (unknown: by name), nulls last either way; ties by name, then id, so
    paging is stable."""
    health_rank = (
        sa.case({cid: _HEALTH_RANK.get(status, 2) for cid, status in health.items()}, value=Company.id, else_=2)
        if health
        else sa.literal(2)
    )
    key = {
        "name": sa.func.lower(Company.name),
        "last_run": jobs.c.last_seen_at,
        "jobs": job_count,
        "health": health_rank,
    }.get(sort, sa.func.lower(Company.name))
    order = [key.desc().nulls_last() if descending else key.asc().nulls_last()]
    if sort != "name":
        order.append(sa.func.lower(Company.name))
    order.append(Company.id)
    return order


def query_companies(
    session: Session,
    user_id: int,
    *,
    search: str = "",
    family: str = "",
    health_filter: str = "",
    enabled: bool | None = None,
    sort: str = "name",
    descending: bool = False,
    page: int = 1,
    page_size: int = 50,
    health: Mapping[int, str] | None = None,
) -> CompanyPage:
    """One page of the user's companies, filtered and sorted in the database (a user may follow
    hundreds: only `page_size` rows leave it). `health` maps company id -> status, from the
    health module; a company it does not name is "unknown"."""
    health = health or {}
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    jobs = _job_totals(user_id)
    where = _company_filters(user_id, search, family, enabled, health_filter, health)
    job_count = sa.func.coalesce(jobs.c.jobs, 0)
    order = _company_order(sort, descending, jobs, job_count, health)

    total = session.exec(select(sa.func.count()).select_from(Company).where(*where)).one()
    pages = max(1, -(-total // page_size))
    page = max(1, min(int(page), pages))
    found = session.exec(
        select(Company, job_count, jobs.c.last_seen_at)
        .outerjoin(jobs, jobs.c.company_id == Company.id)
        .where(*where)
        .order_by(*order)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    counts = session.exec(
        select(sa.func.count(), sa.func.count().filter(Company.enabled.is_(True))).where(Company.user_id == user_id)
    ).one()
    rows = [
        CompanyListing(
            id=company.id or 0,
            name=company.name,
            source_kind=company.source_kind,
            source_value=company.source_value,
            enabled=company.enabled,
            jobs=int(count or 0),
            last_seen_at=last_seen,
            health=health.get(company.id or 0, "unknown"),
        )
        for company, count, last_seen in found
    ]
    return CompanyPage(
        rows=rows, total=total, page=page, pages=pages, all_count=int(counts[0]), enabled_count=int(counts[1])
    )


__all__ = [
    "CompanyError",
    "CompanyListing",
    "CompanyPage",
    "CompanyLimitReached",
    "CompanyNotFound",
    "DuplicateCompany",
    "add_company",
    "delete_company",
    "delete_many",
    "get_company",
    "list_companies",
    "make_source_spec",
    "missing_ids",
    "query_companies",
    "set_enabled",
    "update_company",
]
