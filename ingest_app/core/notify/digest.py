"""What a digest says: the changes a rule lets through (only new and reposted jobs, optionally
reopened and changed ones; title keywords, locations, companies, remote only), the first 10
listed and "N more" with a link to the rest."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ingest_app.core.changes import CHANGES, JOBS, ChangeSummary
from ingest_app.core.notify.channels import RuleView
from ingest_app.core.settings import get_settings

LISTED = 10
LABELS = {"new": "new", "reposted": "reposted", "reopened": "reopened", "changed": "changed"}


@dataclass(frozen=True)
class DigestJob:
    kind: str
    title: str
    company: str
    location: str
    url: str

    def line(self) -> str:
        where = f" · {self.location}" if self.location else ""
        tag = "" if self.kind == "new" else f" [{self.kind}]"
        return f"- {self.title} — {self.company}{where}{tag}\n  {self.url}"


@dataclass(frozen=True)
class Digest:
    title: str
    jobs: list[DigestJob]
    total: int
    link: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.jobs))

    @property
    def summary(self) -> str:
        return ChangeSummary(**{k: v for k, v in self.counts.items() if k in LABELS}).text

    def body(self) -> str:
        lines = [f"{self.summary}", ""]
        lines += [job.line() for job in self.jobs]
        if self.more:
            lines += ["", f"…and {self.more} more: {self.link}"]
        else:
            lines += ["", f"All of them: {self.link}"]
        return "\n".join(lines)

    def payload(self, *, event: str, delivery_id: int, digest_key: str, run_id: int | None) -> dict[str, Any]:
        return {
            "event": event,
            "delivery_id": delivery_id,
            "digest_key": digest_key,
            "run_id": run_id,
            "title": self.title,
            "summary": self.summary,
            "counts": self.counts,
            "total": self.total,
            "more": self.more,
            "link": self.link,
            "jobs": [job.__dict__ for job in self.jobs],
        }


def wanted_kinds(rule: RuleView) -> list[str]:
    kinds = ["new", "reposted"]
    if rule.include_reopened:
        kinds.append("reopened")
    if rule.include_changed:
        kinds.append("changed")
    return kinds


def _folded(values: Iterable[str]) -> list[str]:
    return [v.casefold() for v in values if v]


def matches(rule: RuleView, *, title: str, company: str, location: str, workplace_type: str) -> bool:
    """Every given filter must hold; within a filter, any term (case-insensitive substring)."""
    title_f, location_f = title.casefold(), location.casefold()
    keywords, places, companies = _folded(rule.title_keywords), _folded(rule.locations), _folded(rule.companies)
    if keywords and not any(k in title_f for k in keywords):
        return False
    if places and not any(p in location_f for p in places):
        return False
    if companies and company.casefold() not in companies:
        return False
    if rule.remote_only and workplace_type.casefold() != "remote" and "remote" not in location_f:
        return False
    return True


def build_digest(
    conn: Any,
    rule: RuleView,
    *,
    user_id: int,
    run_id: int | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> Digest:
    """The digest of one run (`run_id`) or of a time window of changes (daily digests)."""
    query = (
        sa.select(
            CHANGES.c.kind,
            CHANGES.c.title,
            CHANGES.c.company,
            CHANGES.c.location,
            CHANGES.c.source_url,
            JOBS.c.apply_url,
            JOBS.c.workplace_type,
        )
        .select_from(CHANGES.join(JOBS, JOBS.c.id == CHANGES.c.job_id))
        .where(CHANGES.c.user_id == user_id, CHANGES.c.kind.in_(wanted_kinds(rule)))
        .order_by(CHANGES.c.id)
    )
    base = get_settings().app_base_url.rstrip("/")
    if run_id is not None:
        query = query.where(CHANGES.c.run_id == run_id)
        link, title = f"{base}/jobs?run={run_id}", f"Run #{run_id}"
    elif window is not None:
        query = query.where(CHANGES.c.created_at > window[0], CHANGES.c.created_at <= window[1])
        link, title = f"{base}/history", f"Daily digest {window[1]:%Y-%m-%d}"
    else:
        raise ValueError("a digest needs a run or a window")
    jobs: list[DigestJob] = []
    counts: dict[str, int] = {}
    total = 0
    for row in conn.execute(query):
        title_text, company, location = row.title or "(untitled)", row.company or "", row.location or ""
        if not matches(
            rule, title=title_text, company=company, location=location, workplace_type=row.workplace_type or ""
        ):
            continue
        total += 1
        counts[row.kind] = counts.get(row.kind, 0) + 1
        if len(jobs) < LISTED:
            jobs.append(DigestJob(row.kind, title_text, company, location, row.apply_url or row.source_url))
    digest = Digest(title=title, jobs=jobs, total=total, link=link, counts=counts)
    return Digest(title=f"{title}: {digest.summary}", jobs=jobs, total=total, link=link, counts=counts)
