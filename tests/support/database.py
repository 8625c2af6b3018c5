"""The test session's throwaway PostgreSQL database: `TEST_DATABASE_URL` is an admin connection
(default: postgres on 127.0.0.1:5432); `TEST_DB_URL` names a fresh `ingest_test_<pid>_<random>`
on it, which tests/conftest.py creates, migrates and drops."""

from __future__ import annotations

import os
import secrets

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ADMIN = make_url(ADMIN_URL).set(drivername="postgresql+psycopg2")
DB_NAME = f"ingest_test_{os.getpid()}_{secrets.token_hex(3)}"
TEST_DB_URL = ADMIN.set(database=DB_NAME).render_as_string(hide_password=False)


def admin_engine() -> sa.Engine:
    return sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
