"""The jobs page: the user's jobs with a text filter, company filter and "show archived"."""

from __future__ import annotations

from urllib.parse import parse_qs

import reflex as rx

from ingest_app.core.db import session_scope
from ingest_app.core.jobs_search import ChangeFilter, job_company_names, search_jobs
from ingest_app.core.models import CHANGE_KINDS, Job, as_utc, utcnow
from ingest_app.states.auth import AuthState
from ingest_app.states.rows import JobRow

PAGE_SIZE = 20
SNIPPET_CHARS = 400


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


class JobsState(AuthState):
    query: str = ""
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

    def _refresh(self, user_id: int) -> None:
        with session_scope() as session:
            result = search_jobs(
                session,
                user_id,
                text=self.query,
                companies=self.selected_companies,
                include_archived=self.show_archived,
                change=ChangeFilter(self.change_run, self.change_kind) if self.change_run else None,
                page=self.page,
                page_size=PAGE_SIZE,
            )
            self.jobs = [job_row(job) for job in result.items]
            self.total, self.page, self.pages = result.total, result.page, result.pages
            names = job_company_names(session, user_id)
        self.company_names = sorted(set(names) | set(self.selected_companies))
        self.loaded = True

    def _guarded(self):
        user_id = self._user_id()
        if user_id is None:
            return None, self._signed_out()
        return user_id, None

    @rx.event
    def load(self):
        """on_load: filters come from the URL (`?q=...&company=A&company=B&archived=1`)."""
        user_id, redirect = self._guarded()
        if user_id is None:
            return redirect
        params = parse_qs(self.router.url.query or "")
        self.query = (params.get("q") or [""])[0]
        self.selected_companies = [name for name in params.get("company", []) if name.strip()]
        self.show_archived = (params.get("archived") or ["0"])[0] in ("1", "true", "yes")
        run = (params.get("run") or [""])[0]
        self.change_run = int(run) if run.isdigit() and len(run) < 10 else 0
        kind = (params.get("change") or [""])[0]
        self.change_kind = kind if kind in CHANGE_KINDS else ""
        self.page = 1
        self._refresh(user_id)

    @rx.event
    def set_query(self, value: str):
        user_id, redirect = self._guarded()
        if user_id is None:
            return redirect
        self.query = value
        self.page = 1
        self._refresh(user_id)

    @rx.event
    def toggle_company(self, name: str):
        user_id, redirect = self._guarded()
        if user_id is None:
            return redirect
        if name in self.selected_companies:
            self.selected_companies = [c for c in self.selected_companies if c != name]
        else:
            self.selected_companies = [*self.selected_companies, name]
        self.page = 1
        self._refresh(user_id)

    @rx.event
    def clear_companies(self):
        user_id, redirect = self._guarded()
        if user_id is None:
            return redirect
        self.selected_companies = []
        self.page = 1
        self._refresh(user_id)

    @rx.event
    def set_show_archived(self, value: bool):
        user_id, redirect = self._guarded()
        if user_id is None:
            return redirect
        self.show_archived = bool(value)
        self.page = 1
        self._refresh(user_id)

    @rx.event
    def set_change_kind(self, kind: str):
        user_id, redirect = self._guarded()
        if user_id is None:
            return redirect
        self.change_kind = kind if kind in CHANGE_KINDS else ""
        self.page = 1
        self._refresh(user_id)

    @rx.event
    def clear_change_filter(self):
        user_id, redirect = self._guarded()
        if user_id is None:
            return redirect
        self.change_run, self.change_kind = 0, ""
        self.page = 1
        self._refresh(user_id)

    @rx.event
    def go_to_page(self, page: int):
        user_id, redirect = self._guarded()
        if user_id is None:
            return redirect
        self.page = page
        self._refresh(user_id)
