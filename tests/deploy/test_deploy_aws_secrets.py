"""The worker's database URL comes from Secrets Manager or SSM (read from a local AWS)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import pytest

from ingest_app.core import aws_secrets
from ingest_app.core.aws_secrets import DatabaseUrlError, database_url_from_secret, resolve_database_url
from ingest_app.core.settings import Settings, get_settings, reset_settings_cache

URL = "postgresql://ingest:s3cret@db.internal:5432/ingest"


@pytest.fixture
def cold_start(aws, monkeypatch) -> Iterator[None]:
    """A fresh worker process: no DATABASE_URL yet, AWS SDK pointed at the local AWS."""
    monkeypatch.delenv("DATABASE_URL")
    for key in (aws_secrets.SECRET_ARN_ENV, aws_secrets.SSM_PARAMETER_ENV):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.endpoint_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    yield
    monkeypatch.undo()  # restores the test database URL before the settings are read again
    reset_settings_cache()


def test_url_is_read_from_a_secrets_manager_secret(aws, cold_start, monkeypatch):
    arn = aws.client("secretsmanager").create_secret(Name=f"db-{secrets.token_hex(4)}", SecretString=URL)["ARN"]
    monkeypatch.setenv(aws_secrets.SECRET_ARN_ENV, arn)

    assert resolve_database_url() == URL
    assert get_settings().database_url == "postgresql+psycopg2://ingest:s3cret@db.internal:5432/ingest"


def test_url_is_built_from_rds_credentials_json(aws, cold_start, monkeypatch):
    value = json.dumps({"username": "ingest", "password": "p@ss/w:rd", "host": "db.internal", "port": 6432})
    arn = aws.client("secretsmanager").create_secret(Name=f"rds-{secrets.token_hex(4)}", SecretString=value)["ARN"]
    monkeypatch.setenv(aws_secrets.SECRET_ARN_ENV, arn)

    assert resolve_database_url() == "postgresql://ingest:p%40ss%2Fw%3Ard@db.internal:6432/postgres"


def test_url_is_read_from_an_ssm_securestring(aws, cold_start, monkeypatch):
    name = f"/job-ingest/{secrets.token_hex(4)}/database-url"
    aws.client("ssm").put_parameter(Name=name, Value=URL, Type="SecureString")
    monkeypatch.setenv(aws_secrets.SSM_PARAMETER_ENV, name)

    assert resolve_database_url() == URL
    assert get_settings().database_url.endswith("@db.internal:5432/ingest")


def test_a_set_database_url_wins_and_nothing_is_fetched(aws, cold_start, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", URL)
    monkeypatch.setenv(aws_secrets.SECRET_ARN_ENV, "arn:aws:secretsmanager:us-east-1:000000000000:secret:absent")

    assert resolve_database_url() == URL


def test_nothing_configured_leaves_the_default(cold_start):
    assert resolve_database_url() is None


def test_a_missing_secret_is_a_clear_error(aws, cold_start, monkeypatch):
    arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:does-not-exist"
    monkeypatch.setenv(aws_secrets.SECRET_ARN_ENV, arn)

    with pytest.raises(DatabaseUrlError, match="cannot read secret .*does-not-exist"):
        resolve_database_url()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"  {URL}\n", URL),
        (json.dumps({"url": URL}), URL),
        (json.dumps({"username": "u", "password": "p", "host": "h", "dbname": "jobs"}), "postgresql://u:p@h:5432/jobs"),
    ],
)
def test_secret_formats(value, expected):
    assert database_url_from_secret(value) == expected


@pytest.mark.parametrize("value", ["not a url", "{not json", json.dumps({"username": "u", "host": "h"})])
def test_unusable_secrets_are_refused_without_echoing_them(value):
    with pytest.raises(DatabaseUrlError) as info:
        database_url_from_secret(value, source="arn:secret")
    assert "arn:secret" in str(info.value)
    assert value not in str(info.value)


def test_worker_env_needs_no_jwt_secret_and_writes_none(tmp_path):
    settings = Settings(app_env="worker", data_dir=tmp_path, jwt_secret="")

    assert settings.jwt_secret == ""
    assert not any(tmp_path.iterdir())


def test_production_still_refuses_to_start_without_a_jwt_secret(tmp_path):
    with pytest.raises(ValueError, match="JWT_SECRET"):
        Settings(app_env="production", data_dir=tmp_path, jwt_secret="")
