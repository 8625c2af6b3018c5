"""Every knob of the product, read from environment variables (and an optional `.env`).

The worker imports this module too, so nothing here may import reflex.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import tempfile
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
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
    # Sign-in and registration rate limits (in-process sliding windows, per web process), shared
    # by the REST routes and the UI. Failed sign-ins are counted per (email, address): an attacker's
    # address is locked out of the account, the owner signing in from elsewhere is not.
    login_rate_limit_per_email: int = Field(default=10, ge=1)
    login_rate_limit_per_address: int = Field(default=60, ge=1)
    login_rate_window_seconds: float = Field(default=300.0, gt=0)
    # Failures on one email from every address together; past it the email is slowed down (one
    # attempt per LOGIN_EMAIL_COOLDOWN_SECONDS from each address), never locked.
    login_failures_per_email_total: int = Field(default=50, ge=1)
    login_email_cooldown_seconds: float = Field(default=10.0, gt=0)
    register_rate_limit_per_address: int = Field(default=10, ge=1)
    register_rate_window_seconds: float = Field(default=3600.0, gt=0)
    # Web edge: request bodies larger than this are refused with 413 before they are read.
    max_request_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # Companies one user may keep.
    max_companies_per_user: int = Field(default=1000, ge=1)
    # Bulk company import: the pasted text or file (bytes), rows per import, rows detected at once.
    import_max_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    import_max_rows: int = Field(default=2000, ge=1)
    import_concurrency: int = Field(default=16, ge=1)
    import_timeout: float = Field(default=300.0, gt=0)  # one whole import preview
    # The UI's session cookie (HttpOnly); Secure is set whenever the page is served over https.
    session_cookie_name: str = "ingest_session"
    # The local demo site the dev supervisor started (empty: none; the UI offers no demo companies).
    demo_site_url: str = ""
    # The dev supervisor (`python -m ingest_app dev`, make run): its ports, and whether it serves the
    # demo site (DEMO=0: the real ATS endpoints) and with what delay before every answer.
    frontend_port: int = Field(default=3000, ge=0, le=65535)
    backend_port: int = Field(default=8000, ge=0, le=65535)
    demo_site_port: int = Field(default=8700, ge=0, le=65535)
    demo_site_latency: float = Field(default=0.0, ge=0)
    demo: bool = True
    # DEBUG keeps tracebacks in the operator commands' log lines (otherwise one line each).
    log_level: str = ""

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
    # Whose per-host budget: `process` (a semaphore per worker process) or `fleet` (leases in
    # PostgreSQL shared by every worker process and Lambda; see core/crawl/politeness.py).
    crawler_host_budget: Literal["process", "fleet"] = "process"
    crawler_per_host_rps: float = Field(default=0.0, ge=0)  # requests started per second per host; 0: no rate
    # A worker waits this long for a host's slot; then an item or listing goes back to the queue.
    crawler_slot_wait_seconds: float = Field(default=10.0, gt=0)
    # This many 429/503 answers in a row from a host (no Retry-After) pause it for everyone.
    crawler_host_pause_after: int = Field(default=3, ge=1)
    crawler_host_pause_seconds: float = Field(default=30.0, gt=0)
    crawler_max_pages: int = 20
    crawler_total_timeout: float = 60.0
    crawler_max_api_bytes: int = 64 * 1024 * 1024  # a big Ashby board is one large JSON document
    crawler_robots_cache_seconds: float = 3600.0
    crawler_board_cache_seconds: float = 120.0
    # Caps: job URLs kept per company listing and per run (a cut listing is reported and does not
    # archive), JSON values parsed per API answer (a memory bound), one deadline per listing and
    # per preview.
    crawler_max_jobs_per_company: int = Field(default=5000, ge=1)
    ingest_max_jobs_per_run: int = Field(default=20000, ge=1)
    crawler_max_json_values: int = Field(default=1_000_000, ge=1000)
    crawler_listing_timeout: float = Field(default=300.0, gt=0)
    preview_timeout: float = Field(default=60.0, gt=0)
    detect_timeout: float = Field(default=30.0, gt=0)  # one URL's detection, every fetch and probe
    preview_pool_size: int = Field(default=8, ge=1)
    preview_per_user_limit: int = Field(default=2, ge=1)
    preview_queue_limit: int = Field(default=32, ge=0)
    greenhouse_api_base: str = "https://boards-api.greenhouse.io"
    lever_api_base: str = "https://api.lever.co"
    ashby_api_base: str = "https://api.ashbyhq.com"
    smartrecruiters_api_base: str = "https://api.smartrecruiters.com"
    workable_api_base: str = "https://apply.workable.com"
    rippling_api_base: str = "https://api.rippling.com"

    # Pipeline / worker
    worker_concurrency: int = Field(default=4, ge=1)
    worker_batch_concurrency: int = Field(default=10, ge=1)
    # Messages per batch handed to the handler (the event source mapping's BatchSize, 1-10).
    worker_batch_size: int = Field(default=10, ge=1, le=10)
    worker_wait_time_seconds: int = Field(default=20, ge=0, le=20)  # SQS long polling
    stale_after_minutes: float = 15.0
    stale_check_interval_seconds: float = 300.0
    stale_max_retries: int = 3
    # Listings run_stage3 (the CLI, schedules tick) lists at once. Each host still gets at most
    # CRAWLER_PER_HOST_CONCURRENCY of them, and companies mostly live on different hosts.
    stage3_list_concurrency: int = Field(default=16, ge=1)
    # Board health (core/health.py). A board that lists nothing while its jobs are active is
    # "suspect" and keeps them for this many consecutive empty runs; the last of them archives.
    empty_board_suspect_runs: int = Field(default=2, ge=1)
    # Consecutive failed listings after which a company counts as failing (before: warning).
    health_failing_runs: int = Field(default=2, ge=1)
    # "Moved?": a board that answers not_found, or lists nothing after listing at least this many
    # jobs, is looked for on the other families (comma-separated names; empty: every family).
    health_moved_min_jobs: int = Field(default=3, ge=1)
    health_moved_families: str = ""
    health_moved_timeout: float = Field(default=60.0, gt=0)  # one company's whole search
    health_moved_per_tick: int = Field(default=10, ge=0)  # companies searched per worker tick
    # Item results commit without waiting for the WAL flush (PostgreSQL). A database crash can then
    # lose the last fraction of a second of results as a whole (item, job, counters together); those
    # items are pending again and the stale detector re-enqueues them, so counts stay exact.
    worker_synchronous_commit: bool = False
    # A crawl that takes longer than this is recorded as a failed item ("timeout: ..."), and the
    # rest of its batch is recorded without waiting for it.
    worker_item_timeout_seconds: float = Field(default=90.0, gt=0)
    # A message that met an infrastructure error (database down, a lock held elsewhere) comes back
    # after this delay, tripled with each receive up to the maximum (never the visibility timeout):
    # 5, 15, 45, 135, 405 s, so the DLQ's 5 receives span about 10 minutes of outage on Lambda.
    worker_retry_delay_seconds: float = Field(default=5.0, ge=0)
    worker_retry_delay_max_seconds: float = Field(default=600.0, ge=0, le=43200)
    # While the database is unreachable the local worker stops receiving and probes it this often.
    worker_db_probe_seconds: float = Field(default=2.0, gt=0)
    # Worker and stale-detector sessions (PostgreSQL): a lock held by someone else, a runaway
    # statement or a transaction left idle (a frozen or partitioned worker) ends in an error after
    # this many milliseconds instead of blocking everyone behind it. 0 disables one.
    worker_db_lock_timeout_ms: int = Field(default=3000, ge=0)
    worker_db_statement_timeout_ms: int = Field(default=120_000, ge=0)
    worker_db_idle_in_transaction_timeout_ms: int = Field(default=60_000, ge=0)
    # TCP keepalives on every PostgreSQL connection: a dead peer is noticed in about
    # idle + interval * count seconds instead of the kernel's two hours.
    db_keepalives_idle_seconds: int = Field(default=30, ge=1)
    db_keepalives_interval_seconds: int = Field(default=10, ge=1)
    db_keepalives_count: int = Field(default=3, ge=1)

    # Continuous tracking: schedules, digests, feeds
    tracking_tick_seconds: float = Field(default=60.0, ge=0)  # local worker: schedules + digests; 0 off
    app_base_url: str = "http://localhost:3000"  # links in digests and feeds
    channel_secret_key: str = ""  # encrypts channel URLs and webhook secrets; default: from JWT_SECRET
    notify_timeout_seconds: float = Field(default=10.0, gt=0)
    notify_max_attempts: int = Field(default=5, ge=1, le=20)
    notify_retry_base_seconds: float = Field(default=30.0, gt=0)  # backoff: 30 s, 2 min, 8 min, ...

    @field_validator("frontend_port", "backend_port", "demo_site_port", "demo_site_latency", mode="before")
    @classmethod
    def _blank_is_default(cls, value: object, info: ValidationInfo) -> object:
        """A blank port is unset, as rxconfig.py reads FRONTEND_PORT and BACKEND_PORT."""
        if isinstance(value, str) and not value.strip():
            return cls.model_fields[info.field_name].default
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'ingest.db'}"
        for prefix in ("postgres://", "postgresql://"):
            if self.database_url.startswith(prefix):
                # psycopg2 is the driver this project ships with.
                self.database_url = "postgresql+psycopg2://" + self.database_url[len(prefix) :]
        if self.app_env == "production":
            if len(self.jwt_secret) < _MIN_SECRET_LENGTH or not secret_looks_random(self.jwt_secret):
                raise ValueError(
                    f"JWT_SECRET must be set to a random string of at least {_MIN_SECRET_LENGTH} "
                    "characters when APP_ENV=production (e.g. `python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))'`)"
                )
            if self.crawler_allow_private_hosts:
                raise ValueError(
                    "CRAWLER_ALLOW_PRIVATE_HOSTS=1 lets users make the servers fetch internal addresses; "
                    "it is refused when APP_ENV=production"
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


# A secret of at least 32 characters must carry at least this many bits (Shannon estimate over its
# characters): "k" * 40 or "changeme" repeated carry almost none; 32 random hex digits about 115 bits.
_MIN_SECRET_BITS = 96


def secret_looks_random(value: str) -> bool:
    """A cheap entropy estimate: distinct characters and their spread, times the length."""
    if not value:
        return False
    counts = Counter(value)
    per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return len(counts) >= 10 and per_char * len(value) >= _MIN_SECRET_BITS


def _local_secret(path: Path) -> str:
    """A development secret generated once and kept in a git-ignored file, private from the start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        value = path.read_text().strip()
        if len(value) >= _MIN_SECRET_LENGTH:
            return value
    value = secrets.token_urlsafe(48)
    # Written to a private temporary file (0600 at creation), then renamed into place: no moment
    # where another user can read it, and no half-written secret.
    fd, tmp = tempfile.mkstemp(prefix=".jwt_secret.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return value


# Values this process decided for itself (`override_settings`); they win over the environment.
_overrides: dict[str, object] = {}


@lru_cache
def get_settings() -> Settings:
    return Settings(**_overrides)


def override_settings(**values: object) -> None:
    """Settle settings this process derives for itself (the local worker sizes its database pool
    from its thread count), instead of writing them into `os.environ` for children to inherit."""
    _overrides.update(values)
    reset_settings_cache()


def reset_settings_cache() -> None:
    get_settings.cache_clear()
