"""The jobs page query: one user's jobs, filtered by text and company, paginated."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, func, select

from ingest_app.core.models import CHANGE_KINDS, Job, RunChange

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_SEARCHED_COLUMNS = (Job.title, Job.company, Job.location, Job.department, Job.description)


@dataclass(frozen=True)
class JobPage:
    items: list[Job]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class ChangeFilter:
    """Only the jobs one run changed (of one kind, or any kind when `kind` is empty)."""

    run_id: int
    kind: str = ""

    def condition(self) -> sa.ColumnElement:
        changed = select(RunChange.job_id).where(RunChange.run_id == self.run_id)
        if self.kind in CHANGE_KINDS:
            changed = changed.where(RunChange.kind == self.kind)
        return Job.id.in_(changed)


def _filters(
    user_id: int, text: str, companies: Iterable[str], include_archived: bool, change: ChangeFilter | None = None
) -> list[sa.ColumnElement]:
    conditions: list[sa.ColumnElement] = [Job.user_id == user_id]
    if change is not None:
        conditions.append(change.condition())  # closed jobs are archived: shown with their run
    elif not include_archived:
        conditions.append(Job.status == "active")
    names = sorted({name.strip() for name in companies if name and name.strip()})
    if names:
        conditions.append(Job.company.in_(names))
    # Every word must appear in at least one of the searched columns (case-insensitive).
    for word in (text or "").split():
        pattern = f"%{_escape_like(word)}%"
        conditions.append(sa.or_(*(column.ilike(pattern, escape="\\") for column in _SEARCHED_COLUMNS)))
    return conditions


def search_jobs(
    session: Session,
    user_id: int,
    *,
    text: str = "",
    companies: Iterable[str] = (),
    include_archived: bool = False,
    change: ChangeFilter | None = None,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> JobPage:
    """The user's jobs matching every filter; active jobs first, most recently seen first.
    `change` keeps only the jobs a run changed (archived ones included)."""
    page_size = min(max(1, page_size), MAX_PAGE_SIZE)
    conditions = _filters(user_id, text, companies, include_archived, change)
    total = session.exec(select(func.count()).select_from(Job).where(*conditions)).one()
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    query = (
        select(Job)
        .where(*conditions)
        .order_by(sa.case((Job.status == "active", 0), else_=1), Job.last_seen_at.desc(), Job.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return JobPage(items=list(session.exec(query).all()), total=total, page=page, page_size=page_size)


def job_company_names(session: Session, user_id: int) -> list[str]:
    """The distinct company names among the user's jobs, for the company filter."""
    query = select(Job.company).where(Job.user_id == user_id).distinct().order_by(Job.company)
    return list(session.exec(query).all())
