"""Request and response bodies of the REST API. No password hash ever leaves the server."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

from ingest_app.core.company_import import RowOutcome
from ingest_app.core.pipeline.read_models import (
    PreviewResult,
    RunChangeSummary,
    RunProgress,
    RunStatus,
    UTCDatetime,
)

# Ids are PostgreSQL INTEGER columns: anything outside this range cannot exist.
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

# The read side's answers are declared once, in core; the API publishes them as they are.
ProgressOut = RunProgress
PreviewOut = PreviewResult
ChangeSummaryOut = RunChangeSummary


def _refuse_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL characters: refuse them up front (422, not a failed INSERT).
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# Request text: no NUL characters (the pattern tells API clients and schema-driven tools).
Text = Annotated[str, AfterValidator(_refuse_nul), Field(json_schema_extra={"pattern": r"^[^\x00]*$"})]


class ErrorOut(BaseModel):
    """Every error: a message, or FastAPI's list of field errors for malformed requests."""

    detail: str | list[dict[str, Any]]


class MessageOut(BaseModel):
    message: str


# --- accounts -------------------------------------------------------------------------------


class Credentials(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    email: Text = Field(min_length=1, max_length=320)
    password: Text = Field(min_length=1, max_length=1024)


class PasswordForm(BaseModel):
    """The OAuth2 password grant form: `username` carries the email."""

    model_config = ConfigDict(extra="ignore")

    username: Text = Field(min_length=1, max_length=320, description="The account email")
    password: Text = Field(min_length=1, max_length=1024)
    grant_type: Literal["password"] | None = None


class RegisterIn(BaseModel):
    model_config = ConfigDict(strict=True)

    email: Text = Field(max_length=320, examples=["ada@example.com"])
    password: Text = Field(max_length=1024, examples=["analytical-engine-1843"])


class RegisteredOut(BaseModel):
    email: str
    message: str


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    created_at: UTCDatetime


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


# --- companies ------------------------------------------------------------------------------


class CompanyIn(BaseModel):
    model_config = ConfigDict(strict=True)

    name: Text = Field(max_length=1000, examples=["Acme"])
    source: Text = Field(
        max_length=4096,
        description="greenhouse:TOKEN, lever:SITE, ashby:ORG or careers:URL",
        examples=["greenhouse:acme"],
    )
    enabled: StrictBool = True


class CompanyPatch(BaseModel):
    model_config = ConfigDict(strict=True)

    name: Text | None = Field(default=None, max_length=1000)
    source: Text | None = Field(default=None, max_length=4096)
    enabled: StrictBool | None = None


class MovedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    source: str = Field(description="The board found for the same company on another family")
    family: str
    jobs_listed: int
    checked_at: UTCDatetime | None = None


class CompanyHealthOut(BaseModel):
    """What the company's runs said about its board (core/health.py)."""

    model_config = ConfigDict(from_attributes=True)

    status: Literal["healthy", "warning", "failing", "unknown"]
    last_success_at: UTCDatetime | None = None
    last_checked_at: UTCDatetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    jobs_now: int | None = Field(default=None, description="Jobs the last successful listing found")
    jobs_before: int | None = Field(default=None, description="Jobs the listing before it found")
    zero_streak: int = Field(default=0, description="Successful listings in a row that found no jobs")
    suspect: bool = Field(default=False, description="Empty while jobs are active; they are kept for now")
    moved: MovedOut | None = Field(default=None, description='"Moved?": a board found on another family')


class CompanyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    source: str
    source_kind: str
    source_value: str
    enabled: bool
    created_at: UTCDatetime
    updated_at: UTCDatetime
    health: CompanyHealthOut | None = Field(default=None, description="Board health (in the company list)")


class DetectIn(BaseModel):
    model_config = ConfigDict(strict=True)

    url: Text = Field(min_length=1, max_length=2048, examples=["https://boards.greenhouse.io/acme"])


class ImportIn(BaseModel):
    model_config = ConfigDict(strict=True)

    text: Text = Field(
        min_length=1,
        description="CSV with a header naming url or source (and name, enabled), or one URL or source a line",
        examples=["name,url\nAcme,https://boards.greenhouse.io/acme\n"],
    )
    dry_run: StrictBool = True


class ImportOut(BaseModel):
    dry_run: bool
    added: int
    new: int = Field(description="Rows that are (dry run: would be) added")
    duplicates: int
    errors: int
    rows: list[RowOutcome]


class BulkIn(BaseModel):
    model_config = ConfigDict(strict=True)

    ids: list[Id] = Field(min_length=1, max_length=5000)
    action: Literal["enable", "disable", "delete"]


class BulkOut(BaseModel):
    action: str
    changed: int = Field(description="Companies enabled, disabled or deleted (already so: not counted)")
    not_found: list[int] = Field(description="Ids that are not companies of yours; left untouched")


# --- ingestion runs -------------------------------------------------------------------------


class StartIn(BaseModel):
    model_config = ConfigDict(strict=True)

    company_ids: list[Id] | None = Field(
        default=None, max_length=1000, description="Companies to ingest; default: every enabled company"
    )


class StartOut(BaseModel):
    run_id: int
    status: RunStatus
    current_stage: int


# --- what changed per run -----------------------------------------------------------------------


class ChangeOut(BaseModel):
    job_id: int
    kind: Literal["new", "closed", "reopened", "changed", "reposted"]
    company: str
    title: str | None
    location: str | None
    source_url: str
    before: dict[str, Any] | None = Field(description="For `changed`: the edited fields before")
    after: dict[str, Any] | None = Field(description="For `changed`: the edited fields after")
    related_job_id: int | None = Field(description="For `reposted`: the closed job this one replaces")
    first_seen_at: UTCDatetime | None
    last_seen_at: UTCDatetime | None
    times_reopened: int
    open_days: int | None = Field(description="Days since the job was first seen")
    status: Literal["active", "archived"]


class RunChangesOut(BaseModel):
    run_id: int
    summary: ChangeSummaryOut
    changes: list[ChangeOut]


# --- schedules ----------------------------------------------------------------------------------


class PresetIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    kind: Literal["hourly", "every_n_hours", "daily", "weekdays", "weekly"]
    hours: int | None = Field(default=None, ge=1, le=23, description="every_n_hours: 1-23")
    time: Text | None = Field(default=None, max_length=5, description="HH:MM (daily, weekdays, weekly)")
    weekday: Literal["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"] | None = None


class ScheduleIn(BaseModel):
    """Either `cron` (5 fields, in `timezone`) or `preset`."""

    model_config = ConfigDict(strict=True, extra="forbid")

    cron: Text | None = Field(default=None, max_length=120, examples=["0 9 * * 1-5"])
    preset: PresetIn | None = None
    timezone: Text = Field(default="UTC", max_length=64, examples=["Europe/Berlin"])
    enabled: StrictBool = True


class ScheduleOut(BaseModel):
    configured: bool = Field(description="False until a schedule was saved")
    enabled: bool
    cron: str
    preset: dict[str, Any] | None
    description: str = Field(description="The cron expression in plain words", examples=["At 09:00 AM"])
    timezone: str
    next_run_at: UTCDatetime | None = Field(description="When the next run starts (null while paused)")
    last_tick_at: UTCDatetime | None
    last_run_id: int | None
    last_outcome: str | None = Field(description='e.g. "started run 12" or "skipped: run 11 was still active"')


# --- notifications ------------------------------------------------------------------------------

DeliveryState = Literal["pending", "sending", "sent", "failed", "skipped"]


class ChannelIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    name: Text = Field(min_length=1, max_length=100, examples=["My inbox"])
    kind: Literal["apprise", "webhook"] = "apprise"
    url: Text = Field(
        min_length=1,
        max_length=2000,
        description="An Apprise URL (mailto://, slack://, discord://, tgram://, ntfy://, json://, ...) "
        "or, for kind=webhook, the http(s) URL to POST signed JSON to",
        examples=["mailto://user:app-password@gmail.com"],
    )
    secret: Text | None = Field(
        default=None,
        max_length=200,
        description="kind=webhook: the HMAC-SHA256 signing secret (16+ characters); never returned",
    )


class ChannelOut(BaseModel):
    """A channel as the API shows it: the URL masked, secrets never included."""

    id: int
    name: str
    kind: Literal["apprise", "webhook"]
    masked_url: str = Field(examples=["mailto://gmail.com/****"])
    enabled: bool
    created_at: UTCDatetime
    last_state: DeliveryState | None = Field(description="Outcome of the latest delivery to this channel")
    last_error: str | None = Field(description="Why the latest delivery failed (or was skipped)")
    last_attempt_at: UTCDatetime | None


class TestQueuedOut(BaseModel):
    delivery_id: int
    state: DeliveryState = "pending"
    message: str


class AttemptOut(BaseModel):
    at: UTCDatetime
    outcome: Literal["sent", "retrying", "failed", "skipped"]
    reason: str | None


class DeliveryOut(BaseModel):
    id: int
    channel_id: int
    channel_name: str
    digest_key: str = Field(examples=["run:12", "daily:2026-12-01", "test:1f2e3d4c5b6a7980"])
    kind: Literal["run", "daily", "test"]
    run_id: int | None
    state: DeliveryState
    attempts: int
    job_count: int
    last_error: str | None
    attempt_log: list[AttemptOut] = Field(description="Every attempt's outcome, oldest first (the last 20)")
    next_attempt_at: UTCDatetime | None = Field(description="When a pending delivery is tried again")
    created_at: UTCDatetime
    sent_at: UTCDatetime | None


Term = Annotated[str, AfterValidator(_refuse_nul), Field(min_length=1, max_length=100)]


class RuleIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    enabled: StrictBool = True
    mode: Literal["after_run", "daily"] = "after_run"
    daily_hour: int = Field(default=8, ge=0, le=23, description="mode=daily: the hour, in `timezone`")
    timezone: Text = Field(default="UTC", max_length=64)
    include_reopened: StrictBool = False
    include_changed: StrictBool = False
    title_keywords: list[Term] = Field(default_factory=list, max_length=50)
    locations: list[Term] = Field(default_factory=list, max_length=50)
    companies: list[Term] = Field(default_factory=list, max_length=50)
    remote_only: StrictBool = False


class RuleOut(BaseModel):
    configured: bool
    enabled: bool
    mode: Literal["after_run", "daily"]
    daily_hour: int
    timezone: str
    include_reopened: bool
    include_changed: bool
    title_keywords: list[str]
    locations: list[str]
    companies: list[str]
    remote_only: bool


# --- feed ---------------------------------------------------------------------------------------


class FeedStatusOut(BaseModel):
    active: bool
    created_at: UTCDatetime | None


class FeedOut(BaseModel):
    path: str = Field(description="/feeds/{token}.atom; keep it secret (anyone with it can read the feed)")
    url: str
