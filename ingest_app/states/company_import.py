"""Import companies in bulk (pasted URLs/specs or a CSV file), row by row, and export them as CSV.

The rows are checked first (core.company_import: the spec detected behind each, the jobs it lists
now, duplicates, errors), shown as a table, and only the rows the user keeps ticked are added."""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from ingest_app.core.company_import import (
    ImportInputError,
    ImportSummary,
    RowOutcome,
    commit_rows,
    export_csv,
    parse_rows,
    preview_rows,
)
from ingest_app.core.db import session_scope
from ingest_app.core.settings import get_settings
from ingest_app.states.auth import AuthState, signed_in
from ingest_app.states.rows import SOURCE_LABELS

# The text area and a chosen file hold at most what core imports (IMPORT_MAX_BYTES).
MAX_TEXT_CHARS = get_settings().import_max_bytes
MAX_UPLOAD_BYTES = get_settings().import_max_bytes


@dataclasses.dataclass
class ImportPreviewRow:
    row: int = 0
    name: str = ""
    input: str = ""
    source: str = ""
    family: str = ""
    jobs_listed: str = ""
    status: str = ""  # new | duplicate | error
    note: str = ""
    accepted: bool = False


def preview_row(outcome: RowOutcome) -> ImportPreviewRow:
    source = outcome.source or ""
    kind = source.partition(":")[0]
    if outcome.status == "duplicate":
        note = outcome.error or "Already in your list"
    else:
        note = outcome.error or ""
    return ImportPreviewRow(
        row=int(outcome.row),
        name=outcome.name or "",
        input=outcome.input or "",
        source=source,
        family=SOURCE_LABELS.get(kind, kind) if source else "",
        jobs_listed="" if outcome.jobs_listed is None else str(outcome.jobs_listed),
        status=outcome.status,
        note=note,
        accepted=outcome.status == "new",
    )


def check_rows(user_id: int, text: str) -> tuple[list[RowOutcome], str]:
    """(each row's outcome, or an error for the whole input): parse, then detect and probe."""
    try:
        rows = parse_rows(text)
    except ImportInputError as exc:
        return [], str(exc)
    if not rows:
        return [], "Paste at least one URL or source (one a line), or choose a CSV file"
    return preview_rows(user_id, rows), ""


def commit(user_id: int, outcomes: list[RowOutcome]) -> ImportSummary:
    with session_scope() as session:
        return commit_rows(session, user_id, outcomes)


def export(user_id: int) -> str:
    with session_scope() as session:
        return export_csv(session, user_id)


class ImportState(AuthState):
    text: str = ""
    text_error: str = ""
    checking: bool = False
    rows: list[ImportPreviewRow] = []
    summary: str = ""
    _outcomes: list[RowOutcome] = []

    @rx.var
    def accepted_count(self) -> int:
        return sum(1 for row in self.rows if row.accepted)

    @rx.var
    def counts_text(self) -> str:
        if not self.rows:
            return ""
        by = {status: sum(1 for r in self.rows if r.status == status) for status in ("new", "duplicate", "error")}
        rows = "row" if len(self.rows) == 1 else "rows"
        return f"{len(self.rows)} {rows}: {by['new']} new, {by['duplicate']} duplicate, {by['error']} with errors"

    @rx.event
    @signed_in
    async def load(self):
        self.text_error = self.summary = ""
        self.checking = False

    @rx.event
    def set_text(self, value: str) -> None:
        self.text = value[:MAX_TEXT_CHARS]
        self.text_error = (
            f"The text is longer than {MAX_TEXT_CHARS // 1024} KB; split it" if len(value) > MAX_TEXT_CHARS else ""
        )

    @rx.event
    def set_accepted(self, row: int, value: bool) -> None:
        self.rows = [
            dataclasses.replace(r, accepted=bool(value) and r.status == "new") if r.row == row else r for r in self.rows
        ]

    @rx.event
    @signed_in
    async def upload(self, files: list[rx.UploadFile]):
        """A CSV file's text goes into the text area (checked like pasted text)."""
        for file in files[:1]:
            data = await file.read(MAX_UPLOAD_BYTES + 1)
            if len(data) > MAX_UPLOAD_BYTES:
                self.text_error = f"The file is larger than {MAX_UPLOAD_BYTES // 1024} KB; split it"
                return None
            try:
                self.text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                self.text_error = "The file is not UTF-8 text (save the CSV as UTF-8)"
                return None
            self.text_error = ""
        return ImportState.check

    @rx.event(background=True)
    @signed_in
    async def check(self):
        """Check every row (detect + probe, bounded in core); the page stays live meanwhile."""
        async with self:
            user_id = self._auth_user_id
            if self.checking or self.text_error:
                return None
            self.checking, self.summary, self.rows, self._outcomes = True, "", [], []
            text = self.text
        try:
            outcomes, error = await asyncio.to_thread(check_rows, user_id, text)
        finally:
            async with self:
                self.checking = False
        async with self:
            if text != self.text:
                return None  # edited meanwhile: the user checks again
            self.text_error = error
            self._outcomes = outcomes
            self.rows = [preview_row(o) for o in outcomes]
        return None

    @rx.event
    @signed_in
    async def commit(self):
        keep = {r.row for r in self.rows if r.accepted}
        chosen = [o for o in self._outcomes if o.status == "new" and o.row in keep]
        if not chosen:
            self.summary = "No rows are ticked to import"
            return None
        result = await asyncio.to_thread(commit, self._auth_user_id, chosen)
        self._outcomes = []
        self.rows = [
            dataclasses.replace(preview_row(o), accepted=False, status="added" if o.status == "new" else o.status)
            for o in result.rows
        ]
        self.summary = (
            f"Added {result.added} {'company' if result.added == 1 else 'companies'}"
            + (f"; {result.duplicates} duplicate" if result.duplicates else "")
            + (f"; {result.errors} not added (see the rows)" if result.errors else "")
        )
        self.text = ""
        return None

    @rx.event
    @signed_in
    async def export(self):
        data = await asyncio.to_thread(export, self._auth_user_id)
        return rx.download(data=data, filename="companies.csv", mime_type="text/csv")
