"""Stage 2: dry run of every enabled company, then "Start ingestion".

A user may follow hundreds of companies, so the page shows counts first (ok / failing / empty and
the job URLs listed) and a group's rows only once it is opened, a page at a time. The dry runs go
through the bounded preview pool at most `preview_per_user_limit` at once, and their results reach
the browser in batches (a few times a second), never one message per company."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import reflex as rx

from ingest_app import routes
from ingest_app.core import pipeline
from ingest_app.core.companies import CompanyNotFound, list_companies
from ingest_app.core.db import session_scope
from ingest_app.core.listing_pool import PreviewBusy
from ingest_app.core.pipeline.preview import preview_company_async
from ingest_app.core.pipeline.read_models import ListingError, PreviewResult
from ingest_app.core.settings import get_settings
from ingest_app.states.auth import AuthState, signed_in
from ingest_app.states.rows import SOURCE_LABELS, PreviewRow


@dataclasses.dataclass(frozen=True)
class PreviewFailed:
    """A dry run that could not run at all (the company is gone, the pool is busy): the row's error."""

    company_id: int
    error: str
    count: int = 0
    urls: tuple[str, ...] = ()


PreviewOutcome = PreviewResult | PreviewFailed


def _failed(company_id: int, exc: Exception) -> PreviewFailed:
    if isinstance(exc, CompanyNotFound):
        error = "This company no longer exists"
    elif isinstance(exc, PreviewBusy):
        error = str(exc)
    else:  # a broken source must not break the page
        error = f"Preview failed: {exc}"
    return PreviewFailed(company_id=company_id, error=error)


def preview_one(user_id: int, company_id: int) -> PreviewOutcome:
    """The dry run of one company; a failure becomes the row's error, never an exception."""
    try:
        with session_scope() as session:
            return pipeline.preview_company(session, user_id, company_id)
    except Exception as exc:
        return _failed(company_id, exc)


async def preview_one_async(user_id: int, company_id: int) -> PreviewOutcome:
    """`preview_one` awaited: the dry run runs in the bounded preview pool, no shared thread."""
    try:
        return await preview_company_async(user_id, company_id)
    except Exception as exc:
        return _failed(company_id, exc)


def preview_rows(user_id: int) -> list[PreviewRow] | None:
    """The enabled companies as pending rows; None while a run is active (blocking)."""
    with session_scope() as session:
        if pipeline.get_active_run(session, user_id) is not None:
            return None
        return [
            PreviewRow(
                company_id=c.id or 0,
                name=c.name,
                source=f"{SOURCE_LABELS.get(c.source_kind, c.source_kind)} · {c.source_value}",
            )
            for c in list_companies(session, user_id, enabled_only=True)
        ]


def start_run(user_id: int, company_ids: list[int]) -> int:
    with session_scope() as session:
        run = pipeline.start_run(session, user_id, company_ids or None)
        run_id = int(run.run_id)
    pipeline.begin_stage3(run_id)  # the workers list, archive and crawl
    return run_id


def error_text(error: ListingError | str | None) -> str:
    """The dry run reports a crawl error as kind and reason; shown as "kind: reason"."""
    if not error:
        return ""
    if isinstance(error, ListingError):
        return error.text if error.reason else error.kind
    return str(error)


def apply_preview(row: PreviewRow, result: PreviewOutcome) -> PreviewRow:
    return PreviewRow(
        company_id=row.company_id,
        name=row.name,
        source=row.source,
        count=result.count,
        urls=list(result.urls),
        error=error_text(result.error),
        done=True,
    )


GROUPS = ("failing", "empty", "ok")
GROUP_PAGE = 50  # rows a group shows per "Show more"
OPEN_ALL_UP_TO = 20  # a short list opens every group at once
PUBLISH_EVERY = 0.3  # seconds between two batches of results sent to the browser
BUSY_RETRY = 0.5  # seconds before a dry run refused as busy is tried again
BUSY_GIVE_UP = 60.0


def group_of(row: PreviewRow) -> str:
    if not row.done:
        return "pending"
    if row.error:
        return "failing"
    return "ok" if row.count > 0 else "empty"


async def preview_until_free(user_id: int, company_id: int) -> PreviewOutcome:
    """One dry run; while the user's share of the pool is taken (another tab), wait and retry."""
    deadline = time.monotonic() + BUSY_GIVE_UP
    while True:
        try:
            return await preview_company_async(user_id, company_id)
        except PreviewBusy as exc:
            if time.monotonic() >= deadline:
                return _failed(company_id, exc)
            await asyncio.sleep(BUSY_RETRY)
        except Exception as exc:
            return _failed(company_id, exc)


class PreviewState(AuthState):
    # Every enabled company's row lives on the server; the browser gets counts and open groups.
    _rows: list[PreviewRow] = []
    loaded: bool = False
    fetching: bool = False
    starting: bool = False
    error: str = ""
    company_count: int = 0
    total_urls: int = 0
    pending_count: int = 0
    ok_count: int = 0
    failing_count: int = 0
    empty_count: int = 0
    open_groups: list[str] = []
    shown: dict[str, int] = {}
    ok_rows: list[PreviewRow] = []
    failing_rows: list[PreviewRow] = []
    empty_rows: list[PreviewRow] = []
    # Each page load starts a new dry run; a fetch left over from an earlier load stops early.
    _generation: int = 0
    _fetching_generation: int = -1

    @rx.var
    def done_count(self) -> int:
        return self.company_count - self.pending_count

    def _publish(self) -> None:
        """Counts from every row; rows only for the open groups, up to what each shows."""
        groups: dict[str, list[PreviewRow]] = {"pending": [], "failing": [], "empty": [], "ok": []}
        for row in self._rows:
            groups[group_of(row)].append(row)
        self.company_count = len(self._rows)
        self.total_urls = sum(row.count for row in self._rows)
        self.pending_count = len(groups["pending"])
        self.ok_count, self.failing_count, self.empty_count = (len(groups[g]) for g in ("ok", "failing", "empty"))
        for group in GROUPS:
            limit = self.shown.get(group, GROUP_PAGE) if group in self.open_groups else 0
            visible = groups[group][:limit]
            if visible != getattr(self, f"{group}_rows"):
                setattr(self, f"{group}_rows", visible)

    @rx.event
    @signed_in
    async def load(self):
        self.error = ""
        rows = await asyncio.to_thread(preview_rows, self._auth_user_id)
        if rows is None:
            return rx.redirect(routes.RUN)
        self._rows = rows
        # What needs attention (failing) is open; a short list shows everything at once.
        self.open_groups = list(GROUPS) if len(rows) <= OPEN_ALL_UP_TO else ["failing"]
        self.shown = {group: GROUP_PAGE for group in GROUPS}
        self._publish()
        self.loaded = True
        self._generation += 1
        if self._rows:
            return PreviewState.fetch_previews

    @rx.event
    def toggle_group(self, group: str) -> None:
        if group not in GROUPS:
            return
        self.open_groups = (
            [g for g in self.open_groups if g != group] if group in self.open_groups else [*self.open_groups, group]
        )
        self._publish()

    @rx.event
    def show_more(self, group: str) -> None:
        if group in GROUPS:
            self.shown = {**self.shown, group: self.shown.get(group, GROUP_PAGE) + GROUP_PAGE}
            self._publish()

    @rx.event(background=True)
    @signed_in
    async def fetch_previews(self):
        """Dry-run the companies in the preview pool, at most the user's share at once; results
        reach the page in batches as they arrive."""
        async with self:
            generation = self._generation
            if self._fetching_generation == generation:
                return None  # this load's dry run is already under way
            user_id = self._auth_user_id
            self._fetching_generation = generation
            self.fetching = True
            todo: asyncio.Queue[int] = asyncio.Queue()
            for row in self._rows:
                if not row.done:
                    todo.put_nowait(row.company_id)
        results: dict[int, PreviewOutcome] = {}
        stale = False

        async def publish() -> None:
            nonlocal stale
            batch = dict(results)
            results.clear()
            async with self:
                if self._generation != generation:
                    stale = True
                    return
                self._rows = [
                    apply_preview(row, batch[row.company_id]) if row.company_id in batch else row for row in self._rows
                ]
                self._publish()

        async def worker() -> None:
            while not stale:
                try:
                    company_id = todo.get_nowait()
                except asyncio.QueueEmpty:
                    return
                results[company_id] = await preview_until_free(user_id, company_id)

        workers = [asyncio.create_task(worker()) for _ in range(max(1, get_settings().preview_per_user_limit))]
        try:
            while not all(task.done() for task in workers) and not stale:
                await asyncio.wait(workers, timeout=PUBLISH_EVERY)
                if results:
                    await publish()
            if results and not stale:
                await publish()
        finally:
            for task in workers:
                task.cancel()
            async with self:
                if self._generation == generation:
                    self.fetching = False
        return None

    @rx.event
    @signed_in
    async def start(self):
        self.error = ""
        company_ids = [row.company_id for row in self._rows]
        try:
            await asyncio.to_thread(start_run, self._auth_user_id, company_ids)
        except pipeline.RunAlreadyActive:
            return rx.redirect(routes.RUN)
        except pipeline.NoCompanies as exc:
            self.error = str(exc)
            return None
        self._generation += 1  # the dry run still going (if any) stops: the run takes over
        return rx.redirect(routes.RUN)
