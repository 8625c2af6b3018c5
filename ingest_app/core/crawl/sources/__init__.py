"""Company sources: each lists a company's current jobs and extracts one posting.

`FAMILIES` is the one table of source families the spec parser, the crawler, the CLI and the UI
read: name, label, spec example, how the board is written, URL recognition, listing and
extraction, and (for listings that may carry postings) the listing with the postings it carries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from importlib import import_module
from types import ModuleType
from urllib.parse import urlsplit

from ingest_app.core.crawl.types import JobListing, ListedJob, Posting


@dataclass(frozen=True)
class Family:
    name: str
    label: str
    example: str  # a complete spec, e.g. "recruitee:https://acme.recruitee.com/"
    value_label: str  # what the spec's value is, for forms
    listing_carries: str  # what one listing answer holds (README, UI help)
    detail: str  # when a per-job request is needed
    hosts: tuple[str, ...] = ()  # the public host names (and their subdomains) `match_url` knows
    module_name: str | None = None

    @cached_property
    def module(self) -> ModuleType:
        return import_module(f"{__name__}.{self.module_name or self.name}")

    @property
    def value_example(self) -> str:
        return self.example.split(":", 1)[1]

    @property
    def normalize(self) -> Callable[[str], str] | None:
        """Board value (URL, token...) -> the stored value; ValueError says what is wrong."""
        return getattr(self.module, "normalize_board", None)

    @property
    def match_url(self) -> Callable[[str], str | None]:
        """Does this URL (a board or job URL on the family's public hosts) belong to me? -> spec."""
        return getattr(self.module, "match_url", lambda url: None)

    @property
    def job_hints(self) -> Callable[[str, str], dict | None] | None:
        """(board value, job URL) -> extraction hints, for a job of that board on any host."""
        return getattr(self.module, "job_hints", None)

    @property
    def list_jobs(self) -> Callable[[str], JobListing | list[ListedJob]]:
        return self.module.list_jobs

    @property
    def extract(self) -> Callable[[dict, str], Posting] | None:
        return getattr(self.module, "extract", None)

    @property
    def listing_postings(self) -> Callable[[str], tuple[JobListing, dict[str, Posting]]] | None:
        """For listings that may carry postings: board -> (the exact `list_jobs` listing, same jobs
        and same `incomplete`; URL -> full posting for the listed jobs whose listing answer
        carried one, possibly none), from the requests `list_jobs` makes."""
        return getattr(self.module, "listing_postings", None)


FAMILIES: tuple[Family, ...] = (
    Family(
        "greenhouse",
        "Greenhouse",
        "greenhouse:acme",
        "Board token or board URL",
        "title, place, date (full postings with content=true)",
        "per job (pay ranges come only from the single-job endpoint)",
        hosts=("greenhouse.io",),
    ),
    Family("lever", "Lever", "lever:acme", "Site name or board URL", "full postings", "per job", hosts=("lever.co",)),
    Family(
        "ashby",
        "Ashby",
        "ashby:acme",
        "Organization or board URL",
        "full postings with compensation",
        "none (extraction re-reads the cached board)",
        hosts=("ashbyhq.com",),
    ),
    Family(
        "workday",
        "Workday",
        "workday:https://acme.wd5.myworkdayjobs.com/External",
        "Board URL",
        "title, place, a vague date; 20 per page",
        "per job (description, start date, time type)",
        hosts=("myworkdayjobs.com", "myworkdaysite.com"),
    ),
    Family(
        "smartrecruiters",
        "SmartRecruiters",
        "smartrecruiters:https://jobs.smartrecruiters.com/Acme",
        "Board URL",
        "partial postings: title, place, department, type, date; 100 per page",
        "per job (description sections)",
        hosts=("smartrecruiters.com",),
    ),
    Family(
        "workable",
        "Workable",
        "workable:https://apply.workable.com/acme/",
        "Board URL",
        "title, place, type, date (paged); full postings from the widget feed when the API refuses",
        "per job (description), none from the widget feed",
        hosts=("workable.com",),
    ),
    Family(
        "recruitee",
        "Recruitee",
        "recruitee:https://acme.recruitee.com/",
        "Board URL",
        "full postings: description, salary, remote flags",
        "none (re-reads the cached board; the single-offer endpoint for an offer it no longer lists)",
        hosts=("recruitee.com",),
    ),
    Family(
        "personio",
        "Personio",
        "personio:https://acme.jobs.personio.de/",
        "Board URL",
        "full postings (XML feed); without a feed, job page links",
        "none (re-reads the cached feed); job pages without a feed",
        hosts=("jobs.personio.de", "jobs.personio.com"),
    ),
    Family(
        "teamtailor",
        "Teamtailor",
        "teamtailor:https://acme.teamtailor.com/",
        "Board URL",
        "full postings (RSS, paged by offset)",
        "none (re-reads the cached feed); the job page when missing from it",
        hosts=("teamtailor.com",),
    ),
    Family(
        "bamboohr",
        "BambooHR",
        "bamboohr:https://acme.bamboohr.com/",
        "Board URL",
        "title, department, place, type",
        "per job (description, date)",
        hosts=("bamboohr.com",),
    ),
    Family(
        "pinpoint",
        "Pinpoint",
        "pinpoint:https://acme.pinpointhq.com/",
        "Board URL",
        "full postings with compensation",
        "none (extraction re-reads the cached board)",
        hosts=("pinpointhq.com",),
    ),
    Family(
        "rippling",
        "Rippling",
        "rippling:https://ats.rippling.com/acme/jobs",
        "Board URL",
        "title, department, place",
        "per job (description, pay range)",
        hosts=("ats.rippling.com",),
    ),
    Family(
        "breezy",
        "Breezy HR",
        "breezy:https://acme.breezy.hr/",
        "Board URL",
        "title, place, type, department, date",
        "per job (the job page's JSON-LD)",
        hosts=("breezy.hr",),
    ),
    Family(
        "careers",
        "Careers page",
        "careers:https://acme.example/careers",
        "Careers page URL",
        "job links (followed over up to CRAWLER_MAX_PAGES pages)",
        "per job (the page's JSON-LD, microdata or text)",
    ),
)
FAMILY_NAMES: tuple[str, ...] = tuple(f.name for f in FAMILIES)
_BY_NAME = {f.name: f for f in FAMILIES}


def get_family(name: str) -> Family | None:
    return _BY_NAME.get((name or "").strip().lower())


def url_host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def on_public_host(family: Family, host: str) -> bool:
    """Cheap first check: is `host` one of the family's public hosts (or under one)?"""
    return any(host == h or host.endswith("." + h) for h in family.hosts)


def match_url(url: str) -> str | None:
    """The spec of the board a public ATS board or job URL belongs to, else None."""
    host = url_host(url)
    for family in FAMILIES:
        if not on_public_host(family, host):
            continue
        try:
            spec = family.match_url(url)
        except ValueError:
            continue
        if spec:
            return spec
    return None


def clear_caches() -> None:
    """Forget every cached board (the families that re-read their board to extract a job)."""
    for family in FAMILIES:
        clear = getattr(family.module, "clear_cache", None)
        if clear is not None:
            clear()
