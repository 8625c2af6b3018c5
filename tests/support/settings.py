"""The one way a test changes settings: environment variables (worker subprocesses a test starts
inherit them too) plus a fresh settings cache and queue clients, all restored afterwards.

    with override_settings(CRAWLER_MAX_RETRIES=0, crawler_read_timeout=0.3):  # names in either case
        ...
    with override_settings(server.settings_env()):                          # or a mapping of env vars
        ...
    def test_x(settings):                                                   # the fixture: until teardown
        settings(STALE_AFTER_MINUTES=0.05)

A value of None removes the variable (the setting's default applies).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest


def _env_value(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def apply_env(env: Mapping[str, object | None]) -> dict[str, str | None]:
    """Set env vars (None removes) and drop what was built from the old settings (the cached
    settings, the queue clients); returns the previous values: `apply_env(previous)` restores them.
    `override_settings` is this with the restore done for you."""
    from ingest_app.core.queue import reset_clients
    from ingest_app.core.settings import reset_settings_cache

    previous = {key: os.environ.get(key) for key in env}
    for key, value in env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = _env_value(value)
    reset_settings_cache()
    reset_clients()
    return previous


@contextmanager
def override_settings(env: Mapping[str, object | None] | None = None, /, **values: object) -> Iterator[Any]:
    """Override settings by env var (`DATABASE_URL=...`) or field name (`database_url=...`) for the
    block; yields the settings as they are inside it."""
    from ingest_app.core.settings import get_settings

    changes = {key.upper(): value for key, value in {**(env or {}), **values}.items()}
    previous = apply_env(changes)
    try:
        yield get_settings()
    finally:
        apply_env(previous)


@pytest.fixture
def settings() -> Iterator[Callable[..., Any]]:
    """`settings(NAME=value, ...)` overrides settings for the rest of the test (like
    `override_settings`, restored at teardown in reverse order); returns the settings."""
    with ExitStack() as stack:

        def _override(env: Mapping[str, object | None] | None = None, /, **values: object) -> Any:
            return stack.enter_context(override_settings(env, **values))

        yield _override
