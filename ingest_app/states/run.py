"""Stages 3-5 of one run: archiving, live progress (polled every 3 s), results; reset."""

from __future__ import annotations

import asyncio

import reflex as rx

from ingest_app import routes
from ingest_app.core import changes, pipeline
from ingest_app.core.db import session_scope
from ingest_app.core.models import ACTIVE_RUN_STATUSES
from ingest_app.core.pipeline.read_models import RunProgress
from ingest_app.states.auth import AuthState, signed_in
from ingest_app.states.formatting import format_duration, format_when
from ingest_app.states.rows import ChangeCountRow, FailedItemRow, RunCompanyRow, SkippedItemRow

POLL_INTERVAL_MS = 3000


def find_run_id(user_id: int, requested: str) -> int:
    """The run to show: the one asked for, else the active run, else the latest one (0: none)."""
    with session_scope() as session:
        if requested.isdigit():
            return int(requested)
        active = pipeline.get_active_run(session, user_id)
        if active is not None:
            return int(active.run_id)
        latest = pipeline.list_history(session, user_id, limit=1)
        return latest[0].run_id if latest else 0


def read_progress(user_id: int, run_id: int) -> tuple[RunProgress, changes.ChangeSummary | None]:
    """The run's progress and, once it has ended (stage 5), what it changed (blocking)."""
    with session_scope() as session:
        progress = pipeline.get_progress(session, user_id, run_id)
        summary = None
        if progress.status not in ACTIVE_RUN_STATUSES:
            summary = changes.summaries(session, [run_id])[run_id]
        return progress, summary


def reset_run(user_id: int, run_id: int) -> None:
    with session_scope() as session:
        pipeline.reset_run(session, user_id, run_id)


def change_rows(run_id: int, summary: changes.ChangeSummary) -> list[ChangeCountRow]:
    """The kinds of change a run made, each linked to the jobs page filtered to them."""
    labels = {"new": "new", "reposted": "reposted", "reopened": "reopened", "changed": "changed", "closed": "closed"}
    return [
        ChangeCountRow(
            kind=kind,
            label=f"+{count} new" if kind == "new" else f"{count} {labels[kind]}",
            count=count,
            href=routes.jobs_changed_in(run_id, kind),
        )
        for kind in changes.SUMMARY_ORDER
        if (count := getattr(summary, kind))
    ]


class RunState(AuthState):
    run_id: int = 0
    loaded: bool = False
    not_found: bool = False
    polling: bool = False
    status: str = ""
    stage: int = 0  # 3 archiving, 4 ingesting, 5 finished, 0 no run (RunProgress.stage)
    total: int = 0
    processed: int = 0
    added: int = 0
    failed: int = 0
    skipped: int = 0
    archived: int = 0
    percent: int = 0
    elapsed: str = ""
    created: str = ""
    error_message: str = ""
    retry_count: int = 0
    companies: list[RunCompanyRow] = []
    failed_items: list[FailedItemRow] = []
    skipped_items: list[SkippedItemRow] = []
    reset_error: str = ""
    change_summary: str = ""
    change_counts: list[ChangeCountRow] = []

    @rx.var
    def search_url(self) -> str:
        return routes.jobs_of_companies(company.name for company in self.companies)

    def _apply(self, progress: RunProgress) -> None:
        self.status = progress.status
        self.stage = progress.stage
        self.total = progress.total_jobs_found
        self.processed = progress.jobs_processed
        self.added = progress.jobs_added
        self.failed = progress.jobs_failed
        self.skipped = progress.jobs_skipped
        self.archived = progress.jobs_archived
        self.percent = int(progress.percent)
        self.elapsed = format_duration(progress.elapsed_seconds)
        self.created = format_when(progress.created_at)
        self.error_message = progress.error_message or ""
        self.retry_count = progress.retry_count
        self.companies = [RunCompanyRow.of(c) for c in progress.companies]
        self.failed_items = [FailedItemRow.of(i) for i in progress.failed_items]
        self.skipped_items = [SkippedItemRow.of(i) for i in progress.skipped_items]
        self.polling = self.status in ACTIVE_RUN_STATUSES

    async def _fetch(self, user_id: int) -> bool:
        """Reload the run from the database; False if it is not this user's run."""
        try:
            progress, summary = await asyncio.to_thread(read_progress, user_id, self.run_id)
        except pipeline.RunNotFound:
            self.not_found = True
            self.polling = False
            return False
        self.not_found = False
        self._apply(progress)
        self.change_summary = summary.text if summary is not None else ""
        self.change_counts = change_rows(self.run_id, summary) if summary is not None else []
        return True

    @rx.event
    @signed_in
    async def load(self):
        """on_load: show the requested run, or the active one, or the latest."""
        user_id = self._auth_user_id
        self.reset_error = ""
        requested = str(self.router.url.query_parameters.get("run", ""))[:12]
        self.run_id = await asyncio.to_thread(find_run_id, user_id, requested)
        self.status = ""
        self.stage = 0
        self.polling = False
        self.not_found = False
        if self.run_id:
            await self._fetch(user_id)
        self.loaded = True

    @rx.event
    async def tick(self, _now: str = ""):
        """Fired every POLL_INTERVAL_MS by the hidden timer while the run is active."""
        if not self.polling:
            return None
        return await self._tick()

    @signed_in
    async def _tick(self):
        user_id = self._auth_user_id
        was_active = self.status in ACTIVE_RUN_STATUSES
        await self._fetch(user_id)
        if was_active and not self.polling and not self.not_found:
            # Stage 5 gets its own address so a reload keeps showing these results.
            return rx.redirect(routes.run_page(self.run_id))
        return None

    @rx.event
    @signed_in
    async def confirm_reset(self):
        user_id = self._auth_user_id
        self.reset_error = ""
        try:
            await asyncio.to_thread(reset_run, user_id, self.run_id)
        except pipeline.RunNotActive as exc:
            self.reset_error = str(exc)
            await self._fetch(user_id)
            return None
        except pipeline.RunNotFound as exc:
            self.reset_error = str(exc)
            self.polling = False
            return None
        self.polling = False
        return rx.redirect(routes.COMPANIES)
