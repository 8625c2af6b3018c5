"""Every knob of the product, read from environment variables (and an optional `.env`).

The worker imports this module too, so nothing here may import reflex.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
_MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # `worker`: a deployed queue worker (AWS Lambda). It issues and verifies no tokens, so it neither
    # needs JWT_SECRET nor writes a local one (its code directory is read-only).
    app_env: Literal["development", "test", "production", "worker"] = "development"
    data_dir: Path = PROJECT_ROOT / ".data"

    # Database: embedded SQLite by default, PostgreSQL URLs work unchanged.
    database_url: str = ""
    db_pool_size: int = 5
    db_max_overflow: int = 10

    # Authentication
    jwt_secret: str = ""
    jwt_algorithm: Literal["HS256"] = "HS256"
    jwt_expire_minutes: int = Field(default=60 * 24, ge=1)
    # Sign-in and registration rate limits (in-process sliding windows, per API process).
    login_rate_limit_per_email: int = Field(default=10, ge=1)
    login_rate_limit_per_address: int = Field(default=60, ge=1)
    login_rate_window_seconds: float = Field(default=300.0, gt=0)
    register_rate_limit_per_address: int = Field(default=10, ge=1)
    register_rate_window_seconds: float = Field(default=3600.0, gt=0)

    # Queue (SQS; a local emulator on loopback by default)
    sqs_endpoint_url: str | None = "http://127.0.0.1:4566"
    crawl_queue_url: str | None = None
    crawl_queue_name: str = "job-ingest-crawl"
    aws_region: str = "us-east-1"
    aws_access_key_id: str = "test"
    aws_secret_access_key: str = "test"

    # Crawler
    crawler_allow_private_hosts: bool = False
    crawler_user_agent: str = "JobIngestBot/0.1"
    crawler_contact_url: str = "https://github.com/job-ingest/job-ingest"
    crawler_connect_timeout: float = 5.0
    crawler_read_timeout: float = 15.0
    crawler_max_bytes: int = 5 * 1024 * 1024
    crawler_max_redirects: int = 5
    crawler_max_retries: int = 3
    crawler_backoff_base: float = 0.5
    crawler_max_retry_after: float = 30.0
    crawler_per_host_concurrency: int = 8
    crawler_max_pages: int = 20
    crawler_total_timeout: float = 60.0
    crawler_max_api_bytes: int = 64 * 1024 * 1024  # a big Ashby board is one large JSON document
    crawler_robots_cache_seconds: float = 3600.0
    crawler_board_cache_seconds: float = 120.0
    greenhouse_api_base: str = "https://boards-api.greenhouse.io"
    lever_api_base: str = "https://api.lever.co"
    ashby_api_base: str = "https://api.ashbyhq.com"

    # Pipeline / worker
    worker_concurrency: int = Field(default=4, ge=1)
    worker_batch_concurrency: int = Field(default=10, ge=1)
    # Messages per batch handed to the handler (the event source mapping's BatchSize, 1-10).
    worker_batch_size: int = Field(default=10, ge=1, le=10)
    worker_wait_time_seconds: int = Field(default=20, ge=0, le=20)  # SQS long polling
    stale_after_minutes: float = 15.0
    stale_check_interval_seconds: float = 300.0
    stale_max_retries: int = 3
    stage3_list_concurrency: int = Field(default=4, ge=1)
    # Item results commit without waiting for the WAL flush (PostgreSQL). A database crash can then
    # lose the last fraction of a second of results as a whole (item, job, counters together); those
    # items are pending again and the stale detector re-enqueues them, so counts stay exact.
    worker_synchronous_commit: bool = False

    # Continuous tracking: schedules, digests, feeds
    tracking_tick_seconds: float = Field(default=60.0, ge=0)  # local worker: schedules + digests; 0 off
    app_base_url: str = "http://localhost:3000"  # links in digests and feeds
    channel_secret_key: str = ""  # encrypts channel URLs and webhook secrets; default: from JWT_SECRET
    notify_timeout_seconds: float = Field(default=10.0, gt=0)
    notify_max_attempts: int = Field(default=5, ge=1, le=20)
    notify_retry_base_seconds: float = Field(default=30.0, gt=0)  # backoff: 30 s, 2 min, 8 min, ...

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'ingest.db'}"
        for prefix in ("postgres://", "postgresql://"):
            if self.database_url.startswith(prefix):
                # psycopg2 is the driver this project ships with.
                self.database_url = "postgresql+psycopg2://" + self.database_url[len(prefix) :]
        if self.app_env == "production":
            if len(self.jwt_secret) < _MIN_SECRET_LENGTH:
                raise ValueError(
                    f"JWT_SECRET must be set to a random string of at least {_MIN_SECRET_LENGTH} "
                    "characters when APP_ENV=production"
                )
        elif not self.jwt_secret and self.app_env != "worker":
            self.jwt_secret = _local_secret(self.data_dir / "jwt_secret")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def user_agent(self) -> str:
        return f"{self.crawler_user_agent} (+{self.crawler_contact_url})"

    @property
    def queue_url(self) -> str:
        if self.crawl_queue_url:
            return self.crawl_queue_url
        endpoint = (self.sqs_endpoint_url or "").rstrip("/")
        return f"{endpoint}/000000000000/{self.crawl_queue_name}"


def _local_secret(path: Path) -> str:
    """A development secret generated once and kept in a git-ignored file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        value = path.read_text().strip()
        if len(value) >= _MIN_SECRET_LENGTH:
            return value
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()
