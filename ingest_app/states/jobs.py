"""The jobs page: the user's jobs with a text filter, company filter and "show archived"."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

import reflex as rx

from ingest_app.core.db import session_scope
from ingest_app.core.jobs_search import ChangeFilter, job_company_names, search_jobs
from ingest_app.core.models import CHANGE_KINDS, Job, as_utc, utcnow
from ingest_app.states.auth import AuthState, signed_in
from ingest_app.states.rows import JobRow

PAGE_SIZE = 20
SNIPPET_CHARS = 400
# Search input is bounded at the edge: longer text is refused with a message, never searched.
MAX_QUERY_CHARS = 200
MAX_COMPANY_FILTERS = 50
MAX_PAGE = 100_000
MAX_URL_QUERY_CHARS = 16_384
QUERY_TOO_LONG = f"Search text is limited to {MAX_QUERY_CHARS} characters"


def _salary(job: Job) -> str:
    if job.salary_min is None and job.salary_max is None:
        return ""
    low, high = job.salary_min, job.salary_max
    span = f"{low:,.0f}-{high:,.0f}" if low is not None and high is not None else f"{(low or high):,.0f}"
    return f"{span} {job.salary_currency or ''}".strip()


def _open_for(job: Job) -> str:
    first_seen = as_utc(job.first_seen_at)
    if first_seen is None:
        return ""
    days = max(0, (utcnow() - first_seen).days)
    return "new today" if days == 0 else f"open for {days} day{'s' if days != 1 else ''}"


def job_row(job: Job) -> JobRow:
    """Descriptions are already plain text; the page renders them as text, never as HTML."""
    description = " ".join((job.description or "").split())
    if len(description) > SNIPPET_CHARS:
        description = description[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"
    return JobRow(
        id=job.id or 0,
        title=job.title or "(untitled)",
        company=job.company,
        location=job.location or "",
        department=job.department or "",
        status=job.status,
        description=description,
        url=job.apply_url or job.source_url,
        posted=job.posted_at.isoformat() if job.posted_at else "",
        salary=_salary(job),
        open_for=_open_for(job),
        reopened=f"reopened {job.times_reopened}×" if job.times_reopened else "",
    )


def search_page(
    user_id: int,
    *,
    text: str,
    companies: list[str],
    include_archived: bool,
    change: ChangeFilter | None,
    page: int,
) -> tuple[list[JobRow], int, int, int, list[str]]:
    """One page of the user's jobs and the company names to filter by (blocking)."""
    with session_scope() as session:
        result = search_jobs(
            session,
            user_id,
            text=text,
            companies=companies,
            include_archived=include_archived,
            change=change,
            page=page,
            page_size=PAGE_SIZE,
        )
        rows = [job_row(job) for job in result.items]
        names = job_company_names(session, user_id)
    return rows, result.total, result.page, result.pages, names


def bounded_companies(names: list[str]) -> list[str]:
    return [name for name in names if name.strip() and len(name) <= 200][:MAX_COMPANY_FILTERS]


class JobsState(AuthState):
    query: str = ""
    query_error: str = ""
    selected_companies: list[str] = []
    company_names: list[str] = []
    show_archived: bool = False
    page: int = 1
    pages: int = 1
    total: int = 0
    jobs: list[JobRow] = []
    loaded: bool = False
    # `?run=N&change=KIND`: only the jobs run N changed (KIND empty: any change).
    change_run: int = 0
    change_kind: str = ""
    change_kinds: list[str] = list(CHANGE_KINDS)

    async def _refresh(self, user_id: int) -> None:
        rows, total, page, pages, names = await asyncio.to_thread(
            search_page,
            user_id,
            text=self.query,
            companies=self.selected_companies,
            include_archived=self.show_archived,
            change=ChangeFilter(self.change_run, self.change_kind) if self.change_run else None,
            page=self.page,
        )
        self.jobs, self.total, self.page, self.pages = rows, total, page, pages
        self.company_names = sorted(set(names) | set(self.selected_companies))
        self.loaded = True

    @rx.event
    @signed_in
    async def load(self):
        """on_load: filters come from the URL (`?q=...&company=A&company=B&archived=1`)."""
        raw = self.router.url.query or ""
        params = parse_qs(raw) if len(raw) <= MAX_URL_QUERY_CHARS else {"q": ["x" * (MAX_QUERY_CHARS + 1)]}
        query = (params.get("q") or [""])[0]
        self.query_error = QUERY_TOO_LONG if len(query) > MAX_QUERY_CHARS else ""
        self.query = "" if self.query_error else query
        self.selected_companies = bounded_companies(params.get("company", []))
        self.show_archived = (params.get("archived") or ["0"])[0] in ("1", "true", "yes")
        run = (params.get("run") or [""])[0]
        self.change_run = int(run) if run.isdigit() and len(run) < 10 else 0
        kind = (params.get("change") or [""])[0]
        self.change_kind = kind if kind in CHANGE_KINDS else ""
        self.page = 1
        await self._refresh(self._auth_user_id)
        return rx.toast.warning(QUERY_TOO_LONG) if self.query_error else None

    @rx.event
    @signed_in
    async def set_query(self, value: str):
        if len(value) > MAX_QUERY_CHARS:
            self.query_error = QUERY_TOO_LONG
            return rx.toast.warning(QUERY_TOO_LONG)
        self.query_error = ""
        self.query = value
        self.page = 1
        await self._refresh(self._auth_user_id)
        return None

    @rx.event
    @signed_in
    async def toggle_company(self, name: str):
        if name in self.selected_companies:
            self.selected_companies = [c for c in self.selected_companies if c != name]
        else:
            self.selected_companies = bounded_companies([*self.selected_companies, name])
        self.page = 1
        await self._refresh(self._auth_user_id)

    @rx.event
    @signed_in
    async def clear_companies(self):
        self.selected_companies = []
        self.page = 1
        await self._refresh(self._auth_user_id)

    @rx.event
    @signed_in
    async def set_show_archived(self, value: bool):
        self.show_archived = bool(value)
        self.page = 1
        await self._refresh(self._auth_user_id)

    @rx.event
    @signed_in
    async def set_change_kind(self, kind: str):
        self.change_kind = kind if kind in CHANGE_KINDS else ""
        self.page = 1
        await self._refresh(self._auth_user_id)

    @rx.event
    @signed_in
    async def clear_change_filter(self):
        self.change_run, self.change_kind = 0, ""
        self.page = 1
        await self._refresh(self._auth_user_id)

    @rx.event
    @signed_in
    async def go_to_page(self, page: int):
        self.page = max(1, min(int(page), MAX_PAGE))
        await self._refresh(self._auth_user_id)
