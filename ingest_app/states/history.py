"""Past ingestion runs, newest first, with a limit selector."""

from __future__ import annotations

import asyncio

import reflex as rx

from ingest_app.core import changes, pipeline
from ingest_app.core.db import session_scope
from ingest_app.states.auth import AuthState, signed_in
from ingest_app.states.rows import HistoryRow

LIMIT_CHOICES = ["10", "25", "50", "100"]


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
        return [HistoryRow.of(run) for run in runs]
