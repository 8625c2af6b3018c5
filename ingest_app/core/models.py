"""The tables. PostgreSQL in production; SQLite must also work for the embedded default."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

RUN_STATUSES = ("archiving", "ingesting", "completed", "failed")
ACTIVE_RUN_STATUSES = ("archiving", "ingesting")
# `skipped`: the page was fetched but is not a job posting (the extractor's not_a_job_page):
# processed, not failed, nothing stored.
ITEM_STATES = ("pending", "succeeded", "failed", "skipped")
JOB_STATUSES = ("active", "archived")
# The source families of ingest_app.core.crawl.sources.FAMILIES (a test keeps them equal).
SOURCE_KINDS = (
    "greenhouse",
    "lever",
    "ashby",
    "workday",
    "smartrecruiters",
    "workable",
    "recruitee",
    "personio",
    "teamtailor",
    "bamboohr",
    "pinpoint",
    "rippling",
    "breezy",
    "careers",
)
SOURCE_KINDS_CHECK = "source_kind IN (" + ",".join(f"'{kind}'" for kind in SOURCE_KINDS) + ")"

JSONVariant = sa.JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every timestamp here is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def _ts(nullable: bool = True, **kwargs: Any) -> sa.Column:
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable, **kwargs)


def _counter(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=False, server_default="0", default=0)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=sa.Column(sa.String(320), nullable=False, unique=True))
    password_hash: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    # Every token carries the version it was issued under; signing out bumps it, revoking them all.
    token_version: int = Field(default=0, sa_column=_counter("token_version"))


class Company(SQLModel, table=True):
    __tablename__ = "companies"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "source_kind", "source_value", name="uq_companies_user_source"),
        sa.CheckConstraint(SOURCE_KINDS_CHECK, name="ck_companies_source_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    source_kind: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    source_value: str = Field(sa_column=sa.Column(sa.String(2048), nullable=False))
    enabled: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true()))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))

    @property
    def source(self) -> str:
        return f"{self.source_kind}:{self.source_value}"


class CompanyHealthRow(SQLModel, table=True):
    """What a company's runs said about its board (core/health.py keeps it; one row per company).

    A table of its own rather than columns on `companies`: stage 3 rewrites it on every run, and
    keeping those writes off the row the user edits leaves the company CRUD and its locks alone.
    No row yet means "unknown" (no run has listed the company)."""

    __tablename__ = "company_health"

    company_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    )
    # The source spec these figures describe: a company pointed elsewhere starts afresh.
    source: str = Field(sa_column=sa.Column(sa.String(2100), nullable=False))
    last_run_id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    last_checked_at: datetime | None = Field(default=None, sa_column=_ts())
    last_success_at: datetime | None = Field(default=None, sa_column=_ts())
    consecutive_failures: int = Field(default=0, sa_column=_counter("consecutive_failures"))
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    jobs_now: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    jobs_before: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    zero_streak: int = Field(default=0, sa_column=_counter("zero_streak"))
    suspect: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    # Set when the board answered not_found or went from many jobs to none: the worker looks for it
    # on the other families and stores what it found in `moved` ({source, family, jobs_listed, checked_at}).
    needs_move_check: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    move_checked_at: datetime | None = Field(default=None, sa_column=_ts())
    moved: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONVariant, nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class Job(SQLModel, table=True):
    __tablename__ = "jobs"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "source_url", name="uq_jobs_user_source_url"),
        sa.CheckConstraint("status IN ('active','archived')", name="ck_jobs_status"),
        sa.Index("ix_jobs_user_status_company", "user_id", "status", "company"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    company_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("companies.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    company: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    source_url: str = Field(sa_column=sa.Column(sa.String(2048), nullable=False))
    title: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
    location: str | None = Field(default=None, sa_column=sa.Column(sa.String(1000)))
    department: str | None = Field(default=None, sa_column=sa.Column(sa.String(300)))
    employment_type: str | None = Field(default=None, sa_column=sa.Column(sa.String(20)))
    workplace_type: str | None = Field(default=None, sa_column=sa.Column(sa.String(20)))
    salary_min: float | None = Field(default=None, sa_column=sa.Column(sa.Float))
    salary_max: float | None = Field(default=None, sa_column=sa.Column(sa.Float))
    salary_currency: str | None = Field(default=None, sa_column=sa.Column(sa.String(10)))
    # hour|day|week|month|year as the source states it; amounts are stored as stated, never annualized.
    salary_period: str | None = Field(default=None, sa_column=sa.Column(sa.String(10)))
    description: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    posted_at: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    # When the source last changed the posting (e.g. Greenhouse updated_at): not a posting date.
    source_updated_at: datetime | None = Field(default=None, sa_column=_ts())
    apply_url: str | None = Field(default=None, sa_column=sa.Column(sa.String(2048)))
    external_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    status: str = Field(default="active", sa_column=sa.Column(sa.String(20), nullable=False, server_default="active"))
    first_seen_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    archived_at: datetime | None = Field(default=None, sa_column=_ts())
    last_run_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("ingestion_runs.run_id", ondelete="SET NULL"), nullable=True),
    )
    # How often an archived job was listed again (core/changes.py records each reopening).
    times_reopened: int = Field(default=0, sa_column=_counter("times_reopened"))


class IngestionRun(SQLModel, table=True):
    __tablename__ = "ingestion_runs"
    __table_args__ = (
        sa.Index(
            "uq_ingestion_runs_one_active_per_user",
            "user_id",
            unique=True,
            postgresql_where=sa.text("status IN ('archiving','ingesting')"),
            sqlite_where=sa.text("status IN ('archiving','ingesting')"),
        ),
        sa.CheckConstraint("status IN ('archiving','ingesting','completed','failed')", name="ck_ingestion_runs_status"),
        sa.CheckConstraint("current_stage BETWEEN 3 AND 5", name="ck_ingestion_runs_stage"),
        sa.CheckConstraint(
            "total_jobs_found >= 0 AND jobs_processed >= 0 AND jobs_added >= 0 "
            "AND jobs_failed >= 0 AND jobs_skipped >= 0 AND jobs_archived >= 0 AND retry_count >= 0",
            name="ck_ingestion_runs_counters_non_negative",
        ),
    )

    run_id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, primary_key=True, autoincrement=True))
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    status: str = Field(default="archiving", sa_column=sa.Column(sa.String(20), nullable=False))
    current_stage: int = Field(default=3, sa_column=sa.Column(sa.Integer, nullable=False, server_default="3"))
    total_jobs_found: int = Field(default=0, sa_column=_counter("total_jobs_found"))
    jobs_processed: int = Field(default=0, sa_column=_counter("jobs_processed"))
    jobs_added: int = Field(default=0, sa_column=_counter("jobs_added"))
    jobs_failed: int = Field(default=0, sa_column=_counter("jobs_failed"))
    # Items that were not job postings: counted in jobs_processed, never in jobs_failed.
    jobs_skipped: int = Field(default=0, sa_column=_counter("jobs_skipped"))
    jobs_archived: int = Field(default=0, sa_column=_counter("jobs_archived"))
    companies: list[dict[str, Any]] = Field(default_factory=list, sa_column=sa.Column(JSONVariant, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=_ts())
    completed_at: datetime | None = Field(default=None, sa_column=_ts())
    last_heartbeat: datetime | None = Field(default=None, sa_column=_ts())
    retry_count: int = Field(default=0, sa_column=_counter("retry_count"))
    error_message: str | None = Field(default=None, sa_column=sa.Column(sa.Text))


class RunListing(SQLModel, table=True):
    """What one company of a run listed (stage 3), recorded once per (run, company position):
    a duplicate delivery of the listing message inserts nothing."""

    __tablename__ = "run_listings"

    run_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("ingestion_runs.run_id", ondelete="CASCADE"), primary_key=True)
    )
    company_index: int = Field(sa_column=sa.Column(sa.Integer, primary_key=True))
    jobs: list[dict[str, Any]] = Field(default_factory=list, sa_column=sa.Column(JSONVariant, nullable=False))
    error_kind: str | None = Field(default=None, sa_column=sa.Column(sa.String(40)))
    error_reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    incomplete: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    # Incremental runs: the postings the listing carried, their fingerprints, the listing to store
    # with its validators, whether it answered 304 (see pipeline/incremental.py).
    extra: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONVariant, nullable=True))
    listed_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class HostLease(SQLModel, table=True):
    """The fleet's per-host budget: `slot` rows 0..limit-1 per host; a slot is taken while its
    lease (`holder`, `expires_at`) holds, so a killed worker's slot frees itself."""

    __tablename__ = "host_leases"

    host: str = Field(sa_column=sa.Column(sa.String(300), primary_key=True))
    slot: int = Field(sa_column=sa.Column(sa.Integer, primary_key=True))
    holder: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    expires_at: datetime | None = Field(default=None, sa_column=_ts())


class HostPause(SQLModel, table=True):
    """A host that asked every worker to wait (Retry-After, repeated 429/503), and the earliest
    start of its next request when a rate is configured."""

    __tablename__ = "host_pauses"

    host: str = Field(sa_column=sa.Column(sa.String(300), primary_key=True))
    paused_until: datetime | None = Field(default=None, sa_column=_ts())
    next_start_at: datetime | None = Field(default=None, sa_column=_ts())
    reason: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))


class RobotsFile(SQLModel, table=True):
    """One host's robots.txt answer as the last process that asked got it, so the fleet asks each
    host once per `CRAWLER_ROBOTS_CACHE_SECONDS` (and then conditionally) instead of once per
    process. `kind`: `rules` (the body), `allow_all` (no robots.txt: 4xx, or one that would not
    parse) or `unavailable` (5xx/429/timeout: crawl nothing until `expires_at`)."""

    __tablename__ = "robots_files"
    __table_args__ = (sa.CheckConstraint("kind IN ('rules','allow_all','unavailable')", name="ck_robots_files_kind"),)

    host: str = Field(sa_column=sa.Column(sa.String(300), primary_key=True))
    kind: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    body: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    error_kind: str | None = Field(default=None, sa_column=sa.Column(sa.String(40)))
    error_reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    etag: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    last_modified: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    fetched_at: datetime = Field(sa_column=_ts(nullable=False))
    expires_at: datetime = Field(sa_column=_ts(nullable=False))


class IngestionRunItem(SQLModel, table=True):
    __tablename__ = "ingestion_run_items"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "url", name="uq_ingestion_run_items_run_url"),
        sa.CheckConstraint("state IN ('pending','succeeded','failed','skipped')", name="ck_ingestion_run_items_state"),
        sa.CheckConstraint("attempts >= 0", name="ck_ingestion_run_items_attempts_non_negative"),
        sa.Index("ix_ingestion_run_items_run_state", "run_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("ingestion_runs.run_id", ondelete="CASCADE"), nullable=False)
    )
    company_id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    company: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    url: str = Field(sa_column=sa.Column(sa.String(2048), nullable=False))
    hints: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(JSONVariant, nullable=False))
    # The normalized posting when the company's listing carried it (Posting.to_dict()): the worker
    # records it without fetching the job.
    posting: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONVariant, nullable=True))
    state: str = Field(default="pending", sa_column=sa.Column(sa.String(20), nullable=False, server_default="pending"))
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    attempts: int = Field(default=0, sa_column=_counter("attempts"))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=_ts())


class HttpValidator(SQLModel, table=True):
    """The ETag / Last-Modified of the last 200 answer one user's crawl got for one URL, and for a
    listing URL the listing it gave (URLs + hints), so a 304 listing is still a complete one.

    Kept per user: a 304 means "unchanged since what *this user's* jobs were built from", and a
    user's jobs are theirs alone (another user may never have recorded that page)."""

    __tablename__ = "http_validators"

    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    )
    url: str = Field(sa_column=sa.Column(sa.String(2048), primary_key=True))
    etag: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    last_modified: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    listing: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONVariant, nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


# --- continuous tracking: what changed per run, schedules, notifications, feeds ---------------

CHANGE_KINDS = ("new", "closed", "reopened", "changed", "reposted")
DELIVERY_STATES = ("pending", "sending", "sent", "failed", "skipped")
CHANNEL_KINDS = ("apprise", "webhook")
RULE_MODES = ("after_run", "daily")


class RunChange(SQLModel, table=True):
    """One change a run made to one job: new, closed, reopened, changed (before/after), reposted."""

    __tablename__ = "run_changes"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "job_id", "kind", name="uq_run_changes_run_job_kind"),
        sa.CheckConstraint("kind IN ('new','closed','reopened','changed','reposted')", name="ck_run_changes_kind"),
        sa.Index("ix_run_changes_run_kind", "run_id", "kind"),
        sa.Index("ix_run_changes_user_created", "user_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("ingestion_runs.run_id", ondelete="CASCADE"), nullable=False)
    )
    user_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False))
    job_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    kind: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    company: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    title: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
    location: str | None = Field(default=None, sa_column=sa.Column(sa.String(1000)))
    source_url: str = Field(sa_column=sa.Column(sa.String(2048), nullable=False))
    # For `changed`: {field: value} before and after; for `reposted`: the closed job it replaces.
    before: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONVariant, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONVariant, nullable=True))
    related_job_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class Schedule(SQLModel, table=True):
    """A user's run schedule: a 5-field cron expression in an IANA timezone (presets become cron)."""

    __tablename__ = "schedules"
    __table_args__ = (sa.Index("ix_schedules_due", "enabled", "next_run_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True)
    )
    enabled: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true()))
    cron: str = Field(sa_column=sa.Column(sa.String(120), nullable=False))
    preset: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONVariant, nullable=True))
    timezone: str = Field(default="UTC", sa_column=sa.Column(sa.String(64), nullable=False, server_default="UTC"))
    next_run_at: datetime | None = Field(default=None, sa_column=_ts())
    last_tick_at: datetime | None = Field(default=None, sa_column=_ts())
    last_run_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("ingestion_runs.run_id", ondelete="SET NULL"), nullable=True),
    )
    last_outcome: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class NotificationChannel(SQLModel, table=True):
    """Where digests go: an Apprise URL, or our own signed webhook. The URL and the webhook secret
    are stored encrypted (core/notify/secrets.py); only `masked_url` is ever shown."""

    __tablename__ = "notification_channels"
    __table_args__ = (sa.CheckConstraint("kind IN ('apprise','webhook')", name="ck_notification_channels_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    name: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    url_encrypted: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    masked_url: str = Field(sa_column=sa.Column(sa.String(300), nullable=False))
    secret_encrypted: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    enabled: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true()))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class NotificationRule(SQLModel, table=True):
    """A user's digest rule (one per user; applies to every enabled channel)."""

    __tablename__ = "notification_rules"
    __table_args__ = (
        sa.CheckConstraint("mode IN ('after_run','daily')", name="ck_notification_rules_mode"),
        sa.CheckConstraint("daily_hour BETWEEN 0 AND 23", name="ck_notification_rules_daily_hour"),
    )

    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    )
    enabled: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true()))
    mode: str = Field(default="after_run", sa_column=sa.Column(sa.String(20), nullable=False))
    daily_hour: int = Field(default=8, sa_column=sa.Column(sa.Integer, nullable=False, server_default="8"))
    timezone: str = Field(default="UTC", sa_column=sa.Column(sa.String(64), nullable=False, server_default="UTC"))
    include_reopened: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    include_changed: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    title_keywords: list[str] = Field(default_factory=list, sa_column=sa.Column(JSONVariant, nullable=False))
    locations: list[str] = Field(default_factory=list, sa_column=sa.Column(JSONVariant, nullable=False))
    companies: list[str] = Field(default_factory=list, sa_column=sa.Column(JSONVariant, nullable=False))
    remote_only: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class NotificationDelivery(SQLModel, table=True):
    """One digest (or test message) for one channel. Unique per (channel, digest_key), e.g.
    `run:12` or `daily:2026-12-01`: however often the work is offered, one record, one send."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("channel_id", "digest_key", name="uq_notification_deliveries_channel_key"),
        sa.CheckConstraint(
            "state IN ('pending','sending','sent','failed','skipped')", name="ck_notification_deliveries_state"
        ),
        sa.Index("ix_notification_deliveries_due", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("notification_channels.id", ondelete="CASCADE"), nullable=False)
    )
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    digest_key: str = Field(sa_column=sa.Column(sa.String(80), nullable=False))
    run_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("ingestion_runs.run_id", ondelete="SET NULL"), nullable=True),
    )
    window_start: datetime | None = Field(default=None, sa_column=_ts())
    window_end: datetime | None = Field(default=None, sa_column=_ts())
    state: str = Field(default="pending", sa_column=sa.Column(sa.String(20), nullable=False))
    attempts: int = Field(default=0, sa_column=_counter("attempts"))
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    locked_until: datetime | None = Field(default=None, sa_column=_ts())
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    # Every attempt's outcome, oldest first: [{"at", "outcome", "reason"}] (the last 20).
    attempt_log: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=sa.Column(JSONVariant, nullable=False, server_default="[]")
    )
    job_count: int = Field(default=0, sa_column=_counter("job_count"))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=_ts())


class FeedToken(SQLModel, table=True):
    """A secret, revocable feed URL: only the SHA-256 of the token is stored."""

    __tablename__ = "feed_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts())
