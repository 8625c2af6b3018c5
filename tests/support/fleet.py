"""In-memory queues for tests: `CollectingSend` keeps what is sent (or fails like an unreachable
SQS); `FleetQueue` is installed as the pipeline's queue port and drains its listing messages
through the worker's own listing path (what a worker does)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from ingest_app.core.pipeline.messages import parse_message


class CollectingSend:
    """A real in-memory queue: `send(bodies)` appends; `fail=True` raises like an unreachable SQS."""

    def __init__(self, fail: bool = False):
        self.bodies: list[dict[str, Any]] = []
        self.calls = 0
        self.fail = fail
        self._lock = threading.Lock()

    def __call__(self, bodies: list[dict[str, Any]], **_: Any) -> int:
        with self._lock:
            self.calls += 1
            if self.fail:
                raise RuntimeError("queue unreachable")
            self.bodies.extend(json.loads(m.model_dump_json()) for m in bodies)  # what survives the wire
        return len(bodies)

    @property
    def messages(self) -> list[Any]:
        """The bodies sent, parsed as the worker parses them."""
        return [parse_message(json.dumps(b)) for b in self.bodies]

    @property
    def item_ids(self) -> list[int]:
        return [b["item_id"] for b in self.bodies]


@pytest.fixture
def sent() -> CollectingSend:
    return CollectingSend()


class FleetQueue(CollectingSend):
    """`send(bodies)` appends; `drain(run_id)` processes the run's listing messages (each once,
    in the order sent) with `process_listing`, whose item messages land here too."""

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
