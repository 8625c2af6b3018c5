"""The database URL of a deployed worker, read from AWS Secrets Manager or SSM Parameter Store.

A Lambda function should not carry the database password in its plain environment. The
CloudFormation stack sets one of these instead:

- `DATABASE_URL_SECRET_ARN`: a Secrets Manager secret whose value is the URL itself, or JSON
  with a `url` key, or the usual RDS credentials JSON (`username`, `password`, `host`, `port`,
  `dbname`);
- `DATABASE_URL_SSM_PARAMETER`: the name of an SSM SecureString parameter holding the URL.

`resolve_database_url()` runs once at cold start, before settings are read: when `DATABASE_URL`
is empty and one of the two is set, it fetches the value with boto3 (the function's role
credentials; `AWS_ENDPOINT_URL` is honoured by boto3 itself) and puts it into
`os.environ["DATABASE_URL"]`. Later calls are free: the variable is set.
"""

from __future__ import annotations

import json
import os
from urllib.parse import quote

SECRET_ARN_ENV = "DATABASE_URL_SECRET_ARN"
SSM_PARAMETER_ENV = "DATABASE_URL_SSM_PARAMETER"


class DatabaseUrlError(RuntimeError):
    """The configured secret or parameter could not be read or holds no usable URL."""


def resolve_database_url() -> str | None:
    """Make sure `DATABASE_URL` is set; return it (None when nothing is configured)."""
    current = os.environ.get("DATABASE_URL", "").strip()
    if current:
        return current
    secret_arn = os.environ.get(SECRET_ARN_ENV, "").strip()
    parameter = os.environ.get(SSM_PARAMETER_ENV, "").strip()
    if secret_arn:
        url = _from_secrets_manager(secret_arn)
    elif parameter:
        url = _from_ssm(parameter)
    else:
        return None
    os.environ["DATABASE_URL"] = url

    from ingest_app.core.settings import reset_settings_cache

    reset_settings_cache()  # settings read before this point must not keep the old value
    return url


def _client(service: str):
    import boto3

    return boto3.session.Session().client(service)


def _from_secrets_manager(secret_arn: str) -> str:
    try:
        response = _client("secretsmanager").get_secret_value(SecretId=secret_arn)
    except Exception as exc:  # botocore errors, missing credentials, endpoint down
        raise DatabaseUrlError(f"cannot read secret {secret_arn}: {exc}") from exc
    value = response.get("SecretString")
    if not value:
        raise DatabaseUrlError(f"secret {secret_arn} has no SecretString")
    return database_url_from_secret(value, source=secret_arn)


def _from_ssm(name: str) -> str:
    try:
        response = _client("ssm").get_parameter(Name=name, WithDecryption=True)
    except Exception as exc:
        raise DatabaseUrlError(f"cannot read SSM parameter {name}: {exc}") from exc
    value = (response.get("Parameter") or {}).get("Value", "").strip()
    if "://" not in value:
        raise DatabaseUrlError(f"SSM parameter {name} does not hold a database URL")
    return value


def database_url_from_secret(value: str, *, source: str = "secret") -> str:
    """The URL held by a secret string: the URL itself, `{"url": ...}` or RDS credentials JSON."""
    value = value.strip()
    if not value.startswith("{"):
        if "://" not in value:
            raise DatabaseUrlError(f"{source} does not hold a database URL")
        return value
    try:
        data = json.loads(value)
    except ValueError as exc:
        raise DatabaseUrlError(f"{source} holds invalid JSON") from exc
    for key in ("url", "database_url", "DATABASE_URL"):
        if isinstance(data.get(key), str) and "://" in data[key]:
            return data[key]
    missing = [key for key in ("username", "password", "host") if not data.get(key)]
    if missing:
        raise DatabaseUrlError(f"{source} lacks a url or the RDS fields {', '.join(missing)}")
    user = quote(str(data["username"]), safe="")
    password = quote(str(data["password"]), safe="")
    port = data.get("port") or 5432
    dbname = quote(str(data.get("dbname") or "postgres"), safe="")
    return f"postgresql://{user}:{password}@{data['host']}:{port}/{dbname}"
