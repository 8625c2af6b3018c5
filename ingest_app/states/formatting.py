"""Presentation helpers shared by the states: durations and timestamps as short text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def format_duration(seconds: float | int | None) -> str:
    """`None` -> "-", 5 -> "5s", 65 -> "1m 05s", 3725 -> "1h 02m"."""
    if seconds is None:
        return "-"
    total = max(0, int(round(float(seconds))))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def format_when(value: Any) -> str:
    """A datetime (or ISO string) as "2026-11-29 21:40 UTC"; empty for nothing."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value)
