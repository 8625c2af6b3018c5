"""Shared fixtures: a throwaway PostgreSQL database per test session.

`TEST_DATABASE_URL` is an admin connection (default: postgres on 127.0.0.1:5432). The session
creates `ingest_test_<random>`, migrates it with Alembic, points `DATABASE_URL` at it and drops it
at the end.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.support.database import ADMIN, DB_NAME, TEST_DB_URL, admin_engine
from tests.support.settings import settings  # noqa: F401 (a fixture: the one way a test overrides settings)

# Set before any project module reads its settings.
os.environ["DATABASE_URL"] = TEST_DB_URL
os.environ.setdefault("APP_ENV", "test")
os.environ.setdefault("JWT_SECRET", "test-secret-" + "x" * 40)
os.environ.setdefault("CRAWLER_ALLOW_PRIVATE_HOSTS", "1")
# The "moved?" search guesses boards on the public ATS hosts; a test that wants it points the
# families at local servers and turns it on.
os.environ.setdefault("HEALTH_MOVED_PER_TICK", "0")


def pytest_sessionstart(session: pytest.Session) -> None:
    try:
        with admin_engine().connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{DB_NAME}"'))
    except sa.exc.OperationalError as exc:
        sys.stderr.write(
            "\nPostgreSQL is not reachable at "
            f"{ADMIN.render_as_string(hide_password=True)}: {exc.orig}\n"
            "Start PostgreSQL or point TEST_DATABASE_URL at an admin connection, e.g.\n"
            "  TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres make test\n"
        )
        pytest.exit("PostgreSQL unreachable", returncode=3)
    from ingest_app.migrations import upgrade

    upgrade(TEST_DB_URL)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        sys.stderr.write("\nerror: no tests were collected\n")
    from ingest_app.core.db import dispose_engines

    dispose_engines()
    try:
        with admin_engine().connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
    except sa.exc.OperationalError:
        pass


TABLES = ("ingestion_run_items", "jobs", "ingestion_runs", "companies", "users", "robots_files")


@pytest.fixture
def engine() -> sa.Engine:
    from ingest_app.core.db import get_engine

    return get_engine()


@pytest.fixture(autouse=True)
def _clean_tables() -> Iterator[None]:
    """Every test starts from empty tables."""
    yield
    from ingest_app.core.db import get_engine

    with get_engine().begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def session(engine: sa.Engine):
    from sqlmodel import Session

    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def make_user(session):
    """Create a committed user: make_user(email=None, password=...) -> User."""
    from ingest_app.accounts.users import create_user

    def _make(email: str | None = None, password: str = "correct-horse-1"):
        user = create_user(session, email=email or f"u{secrets.token_hex(4)}@example.com", password=password)
        session.commit()
        return user

    return _make
