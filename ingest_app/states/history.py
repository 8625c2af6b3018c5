"""Past ingestion runs, newest first, with a limit selector."""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from ingest_app.core import changes, pipeline
from ingest_app.core.db import session_scope
from ingest_app.states.auth import AuthState, signed_in
from ingest_app.states.formatting import format_duration, format_when
from ingest_app.states.rows import HistoryRow

LIMIT_CHOICES = ["10", "25", "50", "100"]


def history_row(run: dict[str, Any]) -> HistoryRow:
    companies = run.get("companies") or []
    return HistoryRow(
        run_id=int(run.get("run_id") or 0),
        status=str(run.get("status") or ""),
        date=format_when(run.get("created_at")),
        companies=", ".join(str(name) for name in companies),
        found=int(run.get("total_jobs_found") or 0),
        added=int(run.get("jobs_added") or 0),
        archived=int(run.get("jobs_archived") or 0),
        failed=int(run.get("jobs_failed") or 0),
        skipped=int(run.get("jobs_skipped") or 0),
        duration=format_duration(run.get("duration_seconds")),
        error=str(run.get("error_message") or ""),
        changes=str((run.get("changes") or {}).get("text") or ""),
    )


class HistoryState(AuthState):
    runs: list[HistoryRow] = []
    limit: str = "10"
    loaded: bool = False

    async def _refresh(self, user_id: int) -> None:
        self.runs = await asyncio.to_thread(history_rows, user_id, int(self.limit))
        self.loaded = True

    @rx.event
    @signed_in
    async def load(self):
        await self._refresh(self._auth_user_id)

    @rx.event
    @signed_in
    async def set_limit(self, value: str):
        self.limit = value if value in LIMIT_CHOICES else "10"
        await self._refresh(self._auth_user_id)


def history_rows(user_id: int, limit: int) -> list[HistoryRow]:
    with session_scope() as session:
        runs = changes.attach_summaries(session, pipeline.list_history(session, user_id, limit=limit))
        return [history_row(run) for run in runs]
