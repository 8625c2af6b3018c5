"""Stale-run detector, run by an EventBridge schedule (rate(5 minutes)) and by the local worker."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    from ingest_app.core.pipeline import detect_stale_runs

    actions = detect_stale_runs()
    if actions:
        logger.info("stale-run detector: %s", actions)
    return {"checked": True, "actions": actions, "count": len(actions)}
