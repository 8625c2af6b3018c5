"""Every address of the UI, in one place: pages declare their route from here and links and
redirects are built here, so renaming a page is one edit and no link can point at a typo."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

SIGN_IN = "/"
COMPANIES = "/companies"
COMPANY_IMPORT = "/companies/import"
PREVIEW = "/preview"
RUN = "/run"
HISTORY = "/history"
JOBS = "/jobs"
SCHEDULE = "/schedule"
NOTIFICATIONS = "/notifications"

# Prefixes a page completes with a client-side value (e.g. `RUN_OF + row.run_id.to_string()`).
RUN_OF = f"{RUN}?run="
JOBS_OF_RUN = f"{JOBS}?run="


def run_page(run_id: int) -> str:
    """One run's page; stage 5 has its own address so a reload keeps showing its results."""
    return f"{RUN_OF}{run_id}"


def jobs_changed_in(run_id: int, kind: str) -> str:
    """The jobs page filtered to one kind of change a run made."""
    return f"{JOBS_OF_RUN}{run_id}&change={kind}"


def jobs_of_companies(companies: Iterable[str]) -> str:
    """The jobs page filtered to these companies."""
    query = urlencode([("company", name) for name in companies])
    return f"{JOBS}?{query}" if query else JOBS
