"""Stage 3 in tests: a real in-memory queue installed as the pipeline's queue port, and a drain
that hands its listing messages to the worker's own listing path (what a worker does)."""

from __future__ import annotations

import json
import threading
from typing import Any


class FleetQueue:
    """`send(bodies)` appends; `drain(run_id)` processes the run's listing messages (each once,
    in the order sent) with `process_listing`, whose item messages land here too."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._done = 0

    def __call__(self, bodies: list[dict[str, Any]], **_: Any) -> int:
        with self._lock:
            self.bodies.extend(json.loads(m.model_dump_json()) for m in bodies)  # what survives the wire
        return len(bodies)

    def of_type(self, kind: str, run_id: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [b for b in self.bodies if b.get("type") == kind and run_id in (None, b["run_id"])]

    def drain(self, run_id: int) -> list[str]:
        from ingest_app.core.pipeline import process_listing

        outcomes = []
        for body in self.of_type("listing", run_id):
            outcomes.append(process_listing(body["run_id"], body["company_index"], send=self))
        return outcomes

    def __enter__(self) -> FleetQueue:
        from ingest_app.core.pipeline.enqueue import set_default_send

        self._previous = set_default_send(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        from ingest_app.core.pipeline.enqueue import set_default_send

        set_default_send(self._previous)
