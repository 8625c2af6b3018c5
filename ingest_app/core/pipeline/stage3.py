"""Stage 3: list every company of the run, archive what disappeared, create items, enqueue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

SendFn = Callable[[list[dict[str, Any]]], Any]


def run_stage3(run_id: int, *, send: SendFn | None = None) -> None:
    raise NotImplementedError


def launch_stage3(run_id: int) -> None:
    raise NotImplementedError


def preview_company(session: Session, user_id: int, company_id: int) -> dict[str, Any]:
    raise NotImplementedError
