"""Plain row types the states hand to the pages (serializable, no ORM objects)."""

from __future__ import annotations

import dataclasses

from ingest_app.core.crawl.sources import FAMILIES

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


@dataclasses.dataclass
class FailedItemRow:
    url: str = ""
    company: str = ""
    error: str = ""


@dataclasses.dataclass
class SkippedItemRow:
    """A URL that was processed but is not a job posting: shown apart from the failures."""

    url: str = ""
    company: str = ""
    label: str = ""


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
