"""What the read side answers: a run's progress, a finished run in the history, a dry run.

Declared once, here: the core queries return these frozen models, the API publishes them as its
response models (so its OpenAPI text is derived from these fields) and the UI reads their
attributes. Nothing downstream re-parses a dict or recomputes what is computed here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ingest_app.core.crawl.types import ErrorKind, kind_reason
from ingest_app.core.models import as_utc

RunStatus = Literal["archiving", "ingesting", "completed", "failed"]
# SQLite hands back naive timestamps; every timestamp here is UTC and says so.
UTCDatetime = Annotated[datetime, AfterValidator(as_utc)]
# The run page's stage for each status: 3 archiving, 4 ingesting, 5 finished.
PAGE_STAGE: dict[str, int] = {"archiving": 3, "ingesting": 4, "completed": 5, "failed": 5}


class _ReadModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class CompanyResult(_ReadModel):
    """What stage 3 found for one company of the run (null until stage 3 has listed it)."""

    company_id: int | None = None
    name: str | None = None
    source: str | None = None
    listed: int | None = Field(default=None, description="Job URLs listed now; null when listing failed")
    archived: int | None = Field(default=None, description="Jobs archived because they are no longer listed")
    error: str | None = Field(default=None, description="Why listing failed")
    skipped_reason: str | None = Field(default=None, description="Why archiving was skipped for this company")
    cut: int | None = Field(default=None, description="Listed job URLs not crawled because of the per-run cap")
    cut_reason: str | None = Field(default=None, description="Why some listed job URLs were not crawled")
    archive_rule: str | None = Field(
        default=None,
        description='The archive rule that applied, e.g. "kept: empty listing 1 of 2 runs" or '
        '"archived: empty for 2 runs"',
    )

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> CompanyResult:
        """One entry of the run row's `companies` JSON (unknown keys are not shown)."""
        return cls(**{name: stored.get(name) for name in cls.model_fields})

    @property
    def note(self) -> str:
        """Why the company listed nothing or was not archived (empty when all went well)."""
        parts = [str(part or "").strip() for part in (self.error, self.skipped_reason)]
        return " · ".join(part for part in parts if part)


class FailedItem(_ReadModel):
    url: str
    company: str | None = None
    error: str | None = None


class SkippedItem(_ReadModel):
    """A listed URL whose page is not a job posting: processed, not a failure, nothing stored."""

    url: str
    company: str | None = None
    reason: str = Field(examples=["not a job posting"])
    detail: str | None = Field(default=None, description="What the extractor found on the page")

    @property
    def label(self) -> str:
        return f"skipped: {self.reason}"


class RunProgress(_ReadModel):
    run_id: int
    status: RunStatus
    current_stage: int
    total_jobs_found: int
    jobs_processed: int
    jobs_added: int
    jobs_failed: int
    jobs_skipped: int = Field(description="Processed items whose page is not a job posting (not failures)")
    jobs_archived: int
    percent: float
    elapsed_seconds: float | None
    companies: list[CompanyResult] = Field(description="Per-company results of this run")
    error_message: str | None
    created_at: UTCDatetime
    started_at: UTCDatetime | None
    completed_at: UTCDatetime | None
    retry_count: int
    failed_items: list[FailedItem] = Field(description="Failed job URLs with their errors (the first 200)")
    skipped_items: list[SkippedItem] = Field(
        default_factory=list, description="URLs skipped because they are not job postings (the first 200)"
    )

    @property
    def stage(self) -> int:
        """The run page's stage (PAGE_STAGE): a run that failed while archiving is finished too."""
        return PAGE_STAGE.get(self.status, 0)

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed")


class RunChangeSummary(_ReadModel):
    new: int
    closed: int
    reopened: int
    changed: int
    reposted: int
    total: int
    text: str = Field(examples=["+12 new · 3 closed · 1 reposted"])


class HistoryEntry(_ReadModel):
    run_id: int
    status: RunStatus
    created_at: UTCDatetime
    started_at: UTCDatetime | None
    completed_at: UTCDatetime | None
    duration_seconds: float | None
    companies: list[str]
    total_jobs_found: int
    jobs_processed: int
    jobs_added: int
    jobs_archived: int
    jobs_failed: int
    jobs_skipped: int = 0
    error_message: str | None
    changes: RunChangeSummary | None = Field(default=None, description="What the run changed")


class ListingError(_ReadModel):
    kind: ErrorKind = Field(description="Why the listing failed, as one of the crawler's failure kinds")
    reason: str

    @property
    def text(self) -> str:
        return kind_reason(self.kind, self.reason)


class PreviewResult(_ReadModel):
    company_id: int
    name: str
    source: str
    count: int
    urls: list[str]
    error: ListingError | None = Field(default=None, description="Why the listing failed (urls is then empty)")

    @classmethod
    def of(
        cls, *, company_id: int, name: str, source: str, urls: list[str], error: ListingError | None = None
    ) -> PreviewResult:
        """The dry run's answer: each listed URL once, in listing order, and their count."""
        unique = list(dict.fromkeys(urls))
        return cls(company_id=company_id, name=name, source=source, count=len(unique), urls=unique, error=error)
