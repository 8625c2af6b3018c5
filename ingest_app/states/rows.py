"""Plain row types the states hand to the pages (serializable, no ORM objects)."""

from __future__ import annotations

import dataclasses

from ingest_app.core.crawl.sources import FAMILIES
from ingest_app.core.pipeline.read_models import CompanyResult, FailedItem, HistoryEntry, SkippedItem
from ingest_app.states.formatting import format_duration, format_when

SOURCE_LABELS = {family.name: family.label for family in FAMILIES}


@dataclasses.dataclass
class CompanyRow:
    id: int = 0
    name: str = ""
    source_kind: str = ""
    source_label: str = ""
    source_value: str = ""
    enabled: bool = True
    jobs: int = 0
    last_run: str = ""
    health: str = "unknown"
    health_note: str = ""  # the last error, or why the company looks moved
    moved_to: str = ""  # a source spec the company seems to have moved to (one-click fix)


@dataclasses.dataclass
class ProposalRow:
    """A board detected behind a URL, offered in the add-company dialog."""

    source: str = ""
    value: str = ""  # the source without its "kind:"
    family: str = ""
    family_label: str = ""
    name: str = ""
    jobs_listed: int = 0


@dataclasses.dataclass
class PreviewRow:
    company_id: int = 0
    name: str = ""
    source: str = ""
    count: int = 0
    urls: list[str] = dataclasses.field(default_factory=list)
    error: str = ""
    done: bool = False


@dataclasses.dataclass
class RunCompanyRow:
    name: str = ""
    source: str = ""
    listed: int = 0
    archived: int = 0
    note: str = ""

    @classmethod
    def of(cls, result: CompanyResult) -> RunCompanyRow:
        return cls(
            name=result.name or "",
            source=result.source or "",
            listed=result.listed or 0,
            archived=result.archived or 0,
            note=result.note,
        )


@dataclasses.dataclass
class FailedItemRow:
    url: str = ""
    company: str = ""
    error: str = ""

    @classmethod
    def of(cls, item: FailedItem) -> FailedItemRow:
        return cls(url=item.url, company=item.company or "", error=item.error or "")


@dataclasses.dataclass
class SkippedItemRow:
    """A URL that was processed but is not a job posting: shown apart from the failures."""

    url: str = ""
    company: str = ""
    label: str = ""

    @classmethod
    def of(cls, item: SkippedItem) -> SkippedItemRow:
        return cls(url=item.url, company=item.company or "", label=item.label)


@dataclasses.dataclass
class HistoryRow:
    run_id: int = 0
    status: str = ""
    date: str = ""
    companies: str = ""
    found: int = 0
    added: int = 0
    archived: int = 0
    failed: int = 0
    skipped: int = 0
    duration: str = ""
    error: str = ""
    changes: str = ""

    @classmethod
    def of(cls, run: HistoryEntry) -> HistoryRow:
        return cls(
            run_id=run.run_id,
            status=run.status,
            date=format_when(run.created_at),
            companies=", ".join(run.companies),
            found=run.total_jobs_found,
            added=run.jobs_added,
            archived=run.jobs_archived,
            failed=run.jobs_failed,
            skipped=run.jobs_skipped,
            duration=format_duration(run.duration_seconds),
            error=run.error_message or "",
            changes=run.changes.text if run.changes is not None else "",
        )


@dataclasses.dataclass
class JobRow:
    id: int = 0
    title: str = ""
    company: str = ""
    location: str = ""
    department: str = ""
    status: str = ""
    description: str = ""
    url: str = ""
    posted: str = ""
    salary: str = ""
    open_for: str = ""
    reopened: str = ""


@dataclasses.dataclass
class ChangeCountRow:
    """One kind of change of a run, linked to the jobs page filtered to it."""

    kind: str = ""
    label: str = ""
    count: int = 0
    href: str = ""


@dataclasses.dataclass
class ChannelRow:
    id: int = 0
    name: str = ""
    kind: str = ""
    masked_url: str = ""
    state: str = ""
    error: str = ""
    when: str = ""


@dataclasses.dataclass
class DeliveryRow:
    id: int = 0
    channel: str = ""
    what: str = ""
    state: str = ""
    detail: str = ""
    when: str = ""
