"""The tracking tick, run every minute by an EventBridge rule (and by the local worker): start
the scheduled runs that are due, then deliver the digests that are due."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


def _stage3_inline(run_id: int) -> None:
    from ingest_app.core.pipeline import run_stage3

    try:
        run_stage3(run_id)
    except Exception:
        pass  # logged and recorded on the run (it is failed with the reason)


def tick_once(*, launch: Callable[[int], Any] = _stage3_inline) -> dict[str, Any]:
    from ingest_app.core.notify.dispatch import dispatch_due
    from ingest_app.core.schedules import tick

    results = [r.as_dict() for r in tick(launch=launch)]
    deliveries = dispatch_due().as_dict()
    if results:
        logger.info("schedules: %s", results)
    return {"runs": results, "deliveries": deliveries}


def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    out = tick_once()
    summary = {"started": sum(1 for r in out["runs"] if r["outcome"] == "started"), **out}
    return json.loads(json.dumps(summary, default=str))  # the runtime answers in JSON
