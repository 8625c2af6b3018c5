"""Stage 2: dry run of every enabled company, then "Start ingestion"."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from ingest_app.core import pipeline
from ingest_app.core.companies import CompanyNotFound, list_companies
from ingest_app.core.db import session_scope
from ingest_app.core.listing_pool import PreviewBusy
from ingest_app.core.pipeline.stage3 import preview_company_async
from ingest_app.states.auth import AuthState, signed_in
from ingest_app.states.rows import SOURCE_LABELS, PreviewRow


def _failed(company_id: int, exc: Exception) -> dict[str, Any]:
    if isinstance(exc, CompanyNotFound):
        error = "This company no longer exists"
    elif isinstance(exc, PreviewBusy):
        error = str(exc)
    else:  # a broken source must not break the page
        error = f"Preview failed: {exc}"
    return {"company_id": company_id, "count": 0, "urls": [], "error": error}


def preview_one(user_id: int, company_id: int) -> dict[str, Any]:
    """The dry run of one company; a failure becomes the row's error, never an exception."""
    try:
        with session_scope() as session:
            return pipeline.preview_company(session, user_id, company_id)
    except Exception as exc:
        return _failed(company_id, exc)


async def preview_one_async(user_id: int, company_id: int) -> dict[str, Any]:
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


def error_text(error: Any) -> str:
    """The dry run reports a crawl error as {"kind", "reason"}; shown as "kind: reason"."""
    if not error:
        return ""
    if isinstance(error, dict):
        kind, reason = error.get("kind") or "", error.get("reason") or ""
        return f"{kind}: {reason}" if kind and reason else str(kind or reason)
    return str(error)


def apply_preview(row: PreviewRow, result: dict[str, Any]) -> PreviewRow:
    urls = [str(url) for url in result.get("urls") or []]
    return PreviewRow(
        company_id=row.company_id,
        name=row.name,
        source=row.source,
        count=int(result.get("count") or len(urls)),
        urls=urls,
        error=error_text(result.get("error")),
        done=True,
    )


class PreviewState(AuthState):
    rows: list[PreviewRow] = []
    loaded: bool = False
    fetching: bool = False
    starting: bool = False
    error: str = ""
    # Each page load starts a new dry run; a fetch left over from an earlier load stops early.
    _generation: int = 0
    _fetching_generation: int = -1

    @rx.var
    def total_urls(self) -> int:
        return sum(row.count for row in self.rows)

    @rx.var
    def pending_count(self) -> int:
        return sum(1 for row in self.rows if not row.done)

    @rx.event
    @signed_in
    async def load(self):
        self.error = ""
        rows = await asyncio.to_thread(preview_rows, self._auth_user_id)
        if rows is None:
            return rx.redirect("/run")
        self.rows = rows
        self.loaded = True
        self._generation += 1
        if self.rows:
            return PreviewState.fetch_previews

    @rx.event(background=True)
    async def fetch_previews(self):
        """Dry-run the companies one by one (in the preview pool), showing each result as it arrives."""
        async with self:
            generation = self._generation
            if self._fetching_generation == generation:
                return None  # this load's dry run is already under way
            user_id = await self._current_user_id()
            if user_id is None:
                return await self._signed_out()
            self._fetching_generation = generation
            self.fetching = True
            company_ids = [row.company_id for row in self.rows if not row.done]
        try:
            for company_id in company_ids:
                result = await preview_one_async(user_id, company_id)
                async with self:
                    if self._generation != generation:
                        return None
                    self.rows = [
                        apply_preview(row, result) if row.company_id == company_id else row for row in self.rows
                    ]
        finally:
            async with self:
                if self._generation == generation:
                    self.fetching = False
        return None

    @rx.event
    @signed_in
    async def start(self):
        self.error = ""
        company_ids = [row.company_id for row in self.rows]
        try:
            await asyncio.to_thread(start_run, self._auth_user_id, company_ids)
        except pipeline.RunAlreadyActive:
            return rx.redirect("/run")
        except pipeline.NoCompanies as exc:
            self.error = str(exc)
            return None
        return rx.redirect("/run")
