"""Settings: embedded defaults for development, a real secret required in production."""

from __future__ import annotations

import secrets
import stat

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
    with pytest.raises(ValidationError, match="JWT_SECRET"):  # long enough, but no entropy
        Settings(app_env="production", data_dir=tmp_path, jwt_secret="k" * 40)
    secret = secrets.token_urlsafe(48)
    ok = Settings(app_env="production", data_dir=tmp_path, jwt_secret=secret, crawler_allow_private_hosts=False)
    assert ok.jwt_secret == secret
    assert not (tmp_path / "jwt_secret").exists()


def test_postgres_urls_use_the_psycopg2_driver():
    assert Settings(database_url="postgres://u@h/db").database_url == "postgresql+psycopg2://u@h/db"
    assert Settings(database_url="postgresql://u@h/db").database_url == "postgresql+psycopg2://u@h/db"


def test_the_local_secret_file_is_private_from_its_creation(tmp_path, monkeypatch):
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.setenv("APP_ENV", "development")
    old = tmp_path / "jwt_secret"
    old.write_text("too-short")  # an old, world-readable file that must be replaced
    old.chmod(0o644)
    with old.open() as reader:  # someone who opened the old file (or raced its creation)
        secret = Settings(data_dir=tmp_path).jwt_secret
        assert reader.read() == "too-short"  # never sees the new secret through the old file
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert old.read_text() == secret and len(secret) >= 32
    assert [p.name for p in tmp_path.iterdir()] == ["jwt_secret"]  # no temporary file left behind


def test_production_refuses_crawling_private_addresses(tmp_path):
    with pytest.raises(ValidationError, match="CRAWLER_ALLOW_PRIVATE_HOSTS"):
        Settings(
            app_env="production",
            data_dir=tmp_path,
            jwt_secret=secrets.token_urlsafe(48),
            crawler_allow_private_hosts=True,
        )
