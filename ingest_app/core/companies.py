"""A user's company configs: list, add, update, delete. Ownership is checked on every call."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ingest_app.core.models import Company, User, utcnow
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


def _clean_name(name: str) -> str:
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
        user_id=user_id, name=_clean_name(name), source_kind=spec.kind, source_value=spec.value, enabled=enabled
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
        company.name = _clean_name(name)
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


__all__ = [
    "CompanyError",
    "CompanyLimitReached",
    "CompanyNotFound",
    "DuplicateCompany",
    "add_company",
    "delete_company",
    "delete_many",
    "missing_ids",
    "get_company",
    "list_companies",
    "make_source_spec",
    "set_enabled",
    "update_company",
]
