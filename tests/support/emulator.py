"""The local SQS emulator for tests: one ministack per test session on a free 127.0.0.1 port,
and a fresh crawl queue (+ DLQ) per test, wired into the settings through env vars so worker
subprocesses see the same queue.

Use from a conftest: `from tests.support.emulator import sqs_emulator, crawl_queue  # noqa: F401`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from devtools.emulator import EmulatorHandle, start_emulator
from tests.support.settings import apply_env


@dataclass
class LocalQueue:
    endpoint_url: str
    name: str
    url: str
    env: dict[str, str]

    def depths(self) -> dict:
        from ingest_app.core.queue import queue_depths

        return queue_depths(self.name)


def start_test_emulator(services: str | None = None) -> EmulatorHandle:
    """ministack on a free loopback port; the caller stops it (`handle.stop()`)."""
    return start_emulator(None, host="127.0.0.1", services=services)


@pytest.fixture(scope="session")
def sqs_emulator() -> Iterator[EmulatorHandle]:
    handle = start_test_emulator()
    try:
        yield handle
    finally:
        handle.stop()


def make_test_queue(
    handle: EmulatorHandle, *, visibility_timeout: int = 30, max_receive_count: int = 5, prefix: str = "test-crawl"
) -> tuple[LocalQueue, dict[str, str | None]]:
    """Point the settings (env) at a new queue on `handle`; returns it and the env to restore."""
    from ingest_app.core.queue import ensure_queues

    name = f"{prefix}-{secrets.token_hex(4)}"
    env = {
        "SQS_ENDPOINT_URL": handle.endpoint_url,
        "CRAWL_QUEUE_NAME": name,
        "CRAWL_QUEUE_URL": None,
        "WORKER_WAIT_TIME_SECONDS": "1",
    }
    previous = apply_env(env)
    url = ensure_queues(visibility_timeout=visibility_timeout, max_receive_count=max_receive_count, wait_time_seconds=1)
    applied = {k: v for k, v in env.items() if v is not None}
    return LocalQueue(endpoint_url=handle.endpoint_url, name=name, url=url, env=applied), previous


@pytest.fixture
def crawl_queue(sqs_emulator: EmulatorHandle) -> Iterator[LocalQueue]:
    """A fresh crawl queue + DLQ (visibility timeout 30 s) that the settings point at."""
    queue, previous = make_test_queue(sqs_emulator)
    try:
        yield queue
    finally:
        apply_env(previous)
