"""Users of the API tests: one password, hashed once per test session (argon2 is slow on purpose),
and `auth_headers(user)`, the Authorization header of a fresh token of that user."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

PASSWORD = "correct-horse-1"


@functools.cache
def password_hash() -> str:
    from ingest_app.accounts.security import hash_password

    return hash_password(PASSWORD)


@pytest.fixture
def auth_headers() -> Callable[[Any], dict[str, str]]:
    """auth_headers(user) -> an Authorization header with a fresh token of that user."""
    from ingest_app.accounts.security import create_access_token

    def _headers(user: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {create_access_token(user.id).access_token}"}

    return _headers
