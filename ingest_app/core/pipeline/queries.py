"""Read side: progress of one run and the history of finished runs."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session


def get_progress(session: Session, user_id: int, run_id: int) -> dict[str, Any]:
    raise NotImplementedError


def list_history(session: Session, user_id: int, limit: int = 10) -> list[dict[str, Any]]:
    raise NotImplementedError
