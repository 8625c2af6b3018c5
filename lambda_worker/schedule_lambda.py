"""The tracking tick, run every minute by an EventBridge rule (and by the local worker): start
the scheduled runs that are due, deliver the digests that are due, then look for the boards the
last runs flagged as "moved?" (a bounded number per tick, each under its own deadline)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


def _enqueue_stage3(run_id: int) -> None:
    """A started run's stage 3 goes to the crawl queue as listing messages (the crawl workers
    list); a queue that refuses them fails the run with the reason."""
    from ingest_app.core.pipeline import begin_stage3

    begin_stage3(run_id)


def tick_once(*, launch: Callable[[int], Any] = _enqueue_stage3) -> dict[str, Any]:
    from ingest_app.core.notify.dispatch import dispatch_due
    from ingest_app.core.schedules import tick

    results = [r.as_dict() for r in tick(launch=launch)]
    deliveries = dispatch_due().as_dict()
    if results:
        logger.info("schedules: %s", results)
    return {"runs": results, "deliveries": deliveries, "moved_searches": _search_moved_boards()}


def _search_moved_boards() -> int:
    """Search the flagged boards (core/health.py); a failure here
    never stops the schedules or the digests."""
    from ingest_app.core.health import check_moved_due

    try:
        return check_moved_due()
    except Exception:
        logger.exception("moved? searches failed")
        return 0


def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    out = tick_once()
    summary = {"started": sum(1 for r in out["runs"] if r["outcome"] == "started"), **out}
    return json.loads(json.dumps(summary, default=str))  # the runtime answers in JSON
