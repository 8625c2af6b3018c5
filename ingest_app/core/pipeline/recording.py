"""The worker side: record one item's result exactly once; complete the run exactly once."""

from __future__ import annotations

from typing import Any

from ingest_app.core.crawl.types import Posting


def record_item_result(run_id: int, item_id: int, *, posting: Posting | None, error: str | None) -> bool:
    raise NotImplementedError


def process_item(body: dict[str, Any]) -> str:
    raise NotImplementedError
