"""The stale-run detector: complete, retry or fail runs whose heartbeat stopped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any


def detect_stale_runs(
    now: datetime | None = None, *, send: Callable[[list[dict[str, Any]]], Any] | None = None
) -> list[dict[str, Any]]:
    raise NotImplementedError
