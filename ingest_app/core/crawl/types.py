"""What the crawler hands to the rest of the product."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal, get_args

# Failure kinds, each with a short human reason in CrawlError.reason. The one list of them: the
# API documents exactly these (read models type their `kind` with it).
ErrorKind = Literal[
    "not_found",
    "gone",
    "timeout",
    "too_large",
    "blocked_by_robots",
    "blocked_address",
    "http_429",
    "http_5xx",
    "http_error",
    "connection_error",
    "not_a_job_page",
    "parse_error",
    "invalid_url",
    "not_modified",  # a 304 to a conditional request: unchanged (crawl/validators.py)
]
ERROR_KINDS: tuple[str, ...] = get_args(ErrorKind)
# Kinds worth another delivery later (the worker already retried inside); the rest are final.
TRANSIENT_KINDS = frozenset({"timeout", "http_429", "http_5xx", "connection_error"})


def kind_reason(kind: ErrorKind, reason: str) -> str:
    """How a failure reads everywhere it is shown or stored: "kind: reason"."""
    return f"{kind}: {reason}"


class CrawlError(Exception):
    """A crawl that could not produce what was asked; never an unhandled exception."""

    def __init__(self, kind: ErrorKind, reason: str, *, url: str | None = None, status: int | None = None):
        if kind not in ERROR_KINDS:
            raise ValueError(f"unknown crawl error kind {kind!r}")
        super().__init__(kind_reason(kind, reason))
        self.kind = kind
        self.reason = reason
        self.url = url
        self.status = status

    @property
    def transient(self) -> bool:
        return self.kind in TRANSIENT_KINDS

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.kind, "reason": self.reason}


@dataclass
class ListedJob:
    """One job a company lists now. `url` is canonical; `hints` travel in the queue message
    so the worker can extract the posting (e.g. from the ATS API) without listing again."""

    url: str
    title: str | None = None
    external_id: str | None = None
    hints: dict[str, Any] = field(default_factory=dict)


class JobListing(list):
    """The ListedJob items of one company. `incomplete` says why the listing may miss jobs that
    are still published (e.g. a page limit was reached); such a listing must not archive."""

    incomplete: str | None = None


@dataclass
class Posting:
    """One normalized job posting."""

    source_url: str
    title: str | None = None
    company: str | None = None
    location: str | None = None
    department: str | None = None
    employment_type: str | None = None  # full_time|part_time|contract|internship|temporary
    workplace_type: str | None = None  # remote|hybrid|onsite
    salary_min: float | None = None
    salary_max: float | None = None
    salary_currency: str | None = None
    posted_at: date | None = None
    description: str | None = None  # plain text, sanitized
    apply_url: str | None = None
    external_id: str | None = None
    salary_period: str | None = None  # hour|day|week|month|year as stated; amounts are never converted
    source_updated_at: datetime | None = None  # when the source last changed the posting (not a posting date)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("posted_at", "source_updated_at"):
            if data[name] is not None:
                data[name] = data[name].isoformat()
        return data
