"""Test data shared by the API tests."""

from __future__ import annotations

from typing import Any

PASSWORD = "correct-horse-1"


def greenhouse_jobs(token: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": 1000 + i,
            "title": f"Engineer {i}",
            "absolute_url": f"https://boards.greenhouse.io/{token}/jobs/{1000 + i}",
        }
        for i in range(count)
    ]
