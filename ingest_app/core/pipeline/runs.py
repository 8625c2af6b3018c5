"""Starting, finding and resetting runs."""

from __future__ import annotations

from sqlmodel import Session

from ingest_app.core.models import IngestionRun


def start_run(session: Session, user_id: int, company_ids: list[int] | None = None) -> IngestionRun:
    raise NotImplementedError


def get_active_run(session: Session, user_id: int) -> IngestionRun | None:
    raise NotImplementedError


def reset_run(session: Session, user_id: int, run_id: int) -> IngestionRun:
    raise NotImplementedError
