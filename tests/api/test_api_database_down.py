"""A database that goes away answers 503 `{"detail": "Database unavailable"}`, never a stack trace."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session

from ingest_app.core.db import get_session


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def database_down(client, settings) -> None:
    """Every route's database is a closed port: the configured URL points there."""
    settings(DATABASE_URL=f"postgresql://nobody@127.0.0.1:{_closed_port()}/gone")


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("post", "/api/auth/register", {"json": {"email": "ada@example.com", "password": "correct-horse-1"}}),
        ("post", "/api/auth/token", {"data": {"username": "ada@example.com", "password": "correct-horse-1"}}),
        ("get", "/api/me", {}),
        ("get", "/api/companies", {}),
        ("post", "/api/companies", {"json": {"name": "Acme", "source": "greenhouse:acme"}}),
        ("get", "/api/ingest/runs/1/progress", {}),
        ("get", "/api/ingest/history", {}),
        ("post", "/api/ingest/start", {}),
    ],
)
def test_unreachable_database_is_503(client, make_user, auth_headers, database_down, method, path, kwargs):
    headers = auth_headers(make_user())
    r = client.request(method, path, headers=headers, **kwargs)
    assert r.status_code == 503, r.text
    assert r.json() == {"detail": "Database unavailable"}
    assert r.headers["content-type"] == "application/json"


def test_the_api_recovers_when_the_database_returns(client, make_user, auth_headers):
    from ingest_app.api.main import api

    headers = auth_headers(make_user())
    dead = create_engine(f"postgresql+psycopg2://nobody@127.0.0.1:{_closed_port()}/gone")

    def _dead_session() -> Iterator[Session]:
        with Session(dead) as session:
            yield session

    api.dependency_overrides[get_session] = _dead_session
    assert client.get("/api/me", headers=headers).status_code == 503
    api.dependency_overrides.clear()
    assert client.get("/api/me", headers=headers).status_code == 200
    dead.dispose()


def test_connection_lost_mid_request_is_503(client, make_user, auth_headers, engine):
    """The server drops the session's connection after it was checked out (e.g. a failover)."""
    from ingest_app.api.main import api

    headers = auth_headers(make_user())

    def _doomed_session() -> Iterator[Session]:
        with Session(engine) as session:
            pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            with engine.connect() as other:
                other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
            yield session

    api.dependency_overrides[get_session] = _doomed_session
    r = client.get("/api/companies", headers=headers)
    assert r.status_code == 503 and r.json() == {"detail": "Database unavailable"}
    api.dependency_overrides.clear()
    assert client.get("/api/companies", headers=headers).status_code == 200
