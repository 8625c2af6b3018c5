"""Users of the API tests: one password, hashed once per test session (argon2 is slow on purpose)."""

from __future__ import annotations

import functools

PASSWORD = "correct-horse-1"


@functools.cache
def password_hash() -> str:
    from ingest_app.core.security import hash_password

    return hash_password(PASSWORD)
