"""Settings: embedded defaults for development, a real secret required in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ingest_app.core.settings import Settings


def test_development_defaults_to_embedded_sqlite_and_a_kept_local_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.setenv("APP_ENV", "development")
    first = Settings(data_dir=tmp_path)
    second = Settings(data_dir=tmp_path)
    assert first.database_url == f"sqlite:///{tmp_path / 'ingest.db'}"
    assert len(first.jwt_secret) >= 32
    assert first.jwt_secret == second.jwt_secret == (tmp_path / "jwt_secret").read_text()


def test_production_refuses_to_start_without_a_real_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("JWT_SECRET", raising=False)
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings(app_env="production", data_dir=tmp_path)
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings(app_env="production", data_dir=tmp_path, jwt_secret="short")
    ok = Settings(app_env="production", data_dir=tmp_path, jwt_secret="k" * 40)
    assert ok.jwt_secret == "k" * 40
    assert not (tmp_path / "jwt_secret").exists()


def test_postgres_urls_use_the_psycopg2_driver():
    assert Settings(database_url="postgres://u@h/db").database_url == "postgresql+psycopg2://u@h/db"
    assert Settings(database_url="postgresql://u@h/db").database_url == "postgresql+psycopg2://u@h/db"
