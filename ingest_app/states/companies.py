"""Stage 1: the user's companies (list, add, edit, enable/disable, delete, demo companies)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import reflex as rx

from ingest_app.core import listing_pool, pipeline
from ingest_app.core.companies import (
    CompanyError,
    CompanyLimitReached,
    CompanyListing,
    CompanyNotFound,
    DuplicateCompany,
    add_company,
    delete_company,
    delete_many,
    get_company,
    query_companies,
    set_enabled,
    update_company,
)
from ingest_app.core.company_import import ImportInputError, fetch_rows
from ingest_app.core.crawl.sources import FAMILIES
from ingest_app.core.crawl.types import CrawlError
from ingest_app.core.db import session_scope
from ingest_app.core.detect import detect_async
from ingest_app.core.health import CompanyHealth, NoMoveSuggestion, apply_move, health_for_user
from ingest_app.core.listing_pool import PreviewBusy
from ingest_app.core.models import Company
from ingest_app.core.settings import get_settings
from ingest_app.core.sources import InvalidSourceSpec, make_source_spec
from ingest_app.states.auth import AuthState, signed_in
from ingest_app.states.formatting import format_when
from ingest_app.states.rows import SOURCE_LABELS, CompanyRow, ProposalRow

# The source picker offers every family of the one family table, each with its example.
VALUE_LABELS = {family.name: family.value_label for family in FAMILIES}
VALUE_PLACEHOLDERS = {
    family.name: ("e.g. " if "://" not in family.value_example else "") + family.value_example for family in FAMILIES
}
VALUE_HINTS = {family.name: f"Example: {family.example}" for family in FAMILIES}


def demo_site_url() -> str:
    """The local demo site the dev supervisor started, if any."""
    return get_settings().demo_site_url.strip().rstrip("/")


DEMO_COMPANIES_PATH = "/companies.csv"  # where the demo site publishes its companies (name,source)
DEMO_GRACE_SECONDS = 5.0  # waited beyond the pool's deadline for the list to be added


MAX_NAME_CHARS = 200
MAX_SOURCE_CHARS = 2048
PAGE_SIZE = 50
SORT_LABELS = {"name": "Name", "last_run": "Last run", "jobs": "Jobs", "health": "Health"}
HEALTH_LABELS = {"healthy": "Healthy", "warning": "Warning", "failing": "Failing", "unknown": "Unknown"}
ALL = "all"  # the select's value for "no filter" (a select item cannot have an empty value)


def company_row(company: Company | CompanyListing, note: tuple[str, str] = ("", "")) -> CompanyRow:
    listing = company if isinstance(company, CompanyListing) else None
    return CompanyRow(
        id=company.id or 0,
        name=company.name,
        source_kind=company.source_kind,
        source_label=SOURCE_LABELS.get(company.source_kind, company.source_kind),
        source_value=company.source_value,
        enabled=company.enabled,
        jobs=listing.jobs if listing else 0,
        last_run=format_when(listing.last_seen_at) if listing else "",
        health=listing.health if listing else "unknown",
        health_note=note[0],
        moved_to=note[1],
    )


@dataclasses.dataclass(frozen=True)
class ListQuery:
    """What the companies page shows: one page of the filtered, sorted list."""

    search: str = ""
    family: str = ""
    health: str = ""
    sort: str = "name"
    descending: bool = False
    page: int = 1


class CompaniesState(AuthState):
    companies: list[CompanyRow] = []  # the page on screen, never the whole list
    loaded: bool = False
    all_count: int = 0
    enabled_count: int = 0
    match_count: int = 0
    page: int = 1
    pages: int = 1
    search: str = ""
    family_filter: str = ALL
    health_filter: str = ALL
    sort: str = "name"
    descending: bool = False
    selected: list[int] = []
    bulk_delete_open: bool = False
    active_run_id: int = 0
    demo_available: bool = False
    message: str = ""
    list_error: str = ""

    form_open: bool = False
    editing_id: int = 0
    form_name: str = ""
    form_kind: str = "greenhouse"
    form_value: str = ""
    name_error: str = ""
    source_error: str = ""
    # "Detect": one URL in, the board(s) behind it proposed (core.detect), the fields filled in.
    detect_url: str = ""
    detecting: bool = False
    detect_error: str = ""
    detect_note: str = ""
    proposals: list[ProposalRow] = []

    @rx.var
    def value_label(self) -> str:
        return VALUE_LABELS.get(self.form_kind, "Source")

    @rx.var
    def value_placeholder(self) -> str:
        return VALUE_PLACEHOLDERS.get(self.form_kind, "")

    @rx.var
    def value_hint(self) -> str:
        return VALUE_HINTS.get(self.form_kind, "")

    @rx.var
    def selected_count(self) -> int:
        return len(self.selected)

    @rx.var
    def page_selected(self) -> bool:
        """Every row of this page is selected (the "select all on page" box is ticked)."""
        chosen = set(self.selected)
        return bool(self.companies) and all(row.id in chosen for row in self.companies)

    @rx.var
    def range_text(self) -> str:
        if not self.match_count:
            return "No companies match" if self.all_count else ""
        first = (self.page - 1) * PAGE_SIZE + 1
        last = min(self.page * PAGE_SIZE, self.match_count)
        of_all = "" if self.match_count == self.all_count else f" (of {self.all_count})"
        return f"{first}–{last} of {self.match_count} companies{of_all}"

    def _query(self) -> ListQuery:
        return ListQuery(
            search=self.search,
            family="" if self.family_filter == ALL else self.family_filter,
            health="" if self.health_filter == ALL else self.health_filter,
            sort=self.sort,
            descending=self.descending,
            page=self.page,
        )

    async def _refresh(self, user_id: int) -> None:
        listing = await asyncio.to_thread(load_companies, user_id, self._query())
        self.companies, self.active_run_id = listing.rows, listing.active_run_id
        self.all_count, self.enabled_count = listing.all_count, listing.enabled_count
        self.match_count, self.page, self.pages = listing.total, listing.page, listing.pages
        self.demo_available = bool(demo_site_url())
        self.loaded = True

    # --- search, filters, sort, pages: each asks the database for one page ---

    @rx.event
    @signed_in
    async def set_search(self, value: str):
        self.search = value[:MAX_NAME_CHARS]
        self.page = 1
        await self._refresh(self._auth_user_id)

    @rx.event
    @signed_in
    async def set_family_filter(self, value: str):
        self.family_filter = value if value in VALUE_LABELS else ALL
        self.page = 1
        await self._refresh(self._auth_user_id)

    @rx.event
    @signed_in
    async def set_health_filter(self, value: str):
        self.health_filter = value if value in HEALTH_LABELS else ALL
        self.page = 1
        await self._refresh(self._auth_user_id)

    @rx.event
    @signed_in
    async def set_sort(self, value: str):
        self.sort = value if value in SORT_LABELS else "name"
        self.page = 1
        await self._refresh(self._auth_user_id)

    @rx.event
    @signed_in
    async def toggle_descending(self):
        self.descending = not self.descending
        self.page = 1
        await self._refresh(self._auth_user_id)

    @rx.event
    @signed_in
    async def go_to_page(self, page: int):
        self.page = max(1, int(page))
        await self._refresh(self._auth_user_id)

    # --- selection and bulk actions ---

    @rx.event
    def toggle_selected(self, company_id: int, value: bool) -> None:
        chosen = [i for i in self.selected if i != company_id]
        self.selected = [*chosen, int(company_id)] if value else chosen

    @rx.event
    def select_page(self, value: bool) -> None:
        on_page = {row.id for row in self.companies}
        kept = [i for i in self.selected if i not in on_page]
        self.selected = kept + sorted(on_page) if value else kept

    @rx.event
    def clear_selection(self) -> None:
        self.selected = []

    @rx.event
    def set_bulk_delete_open(self, value: bool) -> None:
        self.bulk_delete_open = bool(value) and bool(self.selected)

    @rx.event
    @signed_in
    async def bulk_set_enabled(self, enabled: bool):
        user_id = self._auth_user_id
        changed = await asyncio.to_thread(enable_many, user_id, list(self.selected), bool(enabled))
        self.message = f"{'Enabled' if enabled else 'Disabled'} {changed} {plural(changed, 'company', 'companies')}"
        self.list_error = ""
        await self._refresh(user_id)

    @rx.event
    @signed_in
    async def bulk_delete(self):
        user_id = self._auth_user_id
        removed = await asyncio.to_thread(remove_many, user_id, list(self.selected))
        self.selected = []
        self.bulk_delete_open = False
        self.message = f"Deleted {removed} {plural(removed, 'company', 'companies')}"
        self.list_error = ""
        await self._refresh(user_id)

    @rx.event
    @signed_in
    async def load(self):
        self.message = self.list_error = ""
        self.selected = []
        await self._refresh(self._auth_user_id)

    @rx.event
    def set_form_name(self, value: str) -> None:
        self.form_name = value[: MAX_NAME_CHARS + 1]
        self.name_error = too_long("Name", value, MAX_NAME_CHARS)

    @rx.event
    def set_form_kind(self, value: str) -> None:
        self.form_kind = value if value in VALUE_LABELS else "greenhouse"
        self.source_error = ""

    @rx.event
    def set_form_value(self, value: str) -> None:
        self.form_value = value[: MAX_SOURCE_CHARS + 1]
        self.source_error = too_long("The source", value, MAX_SOURCE_CHARS)

    @rx.event
    def set_form_open(self, value: bool) -> None:
        self.form_open = value

    @rx.event
    def open_add(self) -> None:
        self.editing_id = 0
        self.form_name, self.form_kind, self.form_value = "", "greenhouse", ""
        self.name_error = self.source_error = ""
        self.detect_url, self.detect_error, self.detect_note, self.proposals = "", "", "", []
        self.form_open = True

    @rx.event
    def set_detect_url(self, value: str) -> None:
        self.detect_url = value[: MAX_SOURCE_CHARS + 1]
        self.detect_error = too_long("The URL", value, MAX_SOURCE_CHARS)

    @rx.event
    def use_proposal(self, source: str) -> None:
        """Fill the kind, token/URL and name from one detected board (all stay editable)."""
        chosen = next((p for p in self.proposals if p.source == source), None)
        if chosen is None:
            return
        kind, _, value = chosen.source.partition(":")
        self.form_kind = kind if kind in VALUE_LABELS else self.form_kind
        self.form_value = value
        if chosen.name and not self.form_name.strip():
            self.form_name = chosen.name[:MAX_NAME_CHARS]
        self.name_error = self.source_error = ""
        self.detect_note = f"Using {chosen.family_label}: {chosen.jobs_listed} jobs listed now"

    @rx.event(background=True)
    @signed_in
    async def detect(self):
        """Look for the board behind the URL (in the bounded listing pool, the dialog stays live)."""
        async with self:
            user_id = self._auth_user_id
            url = self.detect_url.strip()
            if self.detecting:
                return None
            if not url or len(url) > MAX_SOURCE_CHARS:
                self.detect_error = self.detect_error or "Enter the URL of a careers page or a job board"
                return None
            self.detecting, self.detect_error, self.detect_note, self.proposals = True, "", "", []
        try:
            proposals, error = await detect_board(user_id, url)
        finally:
            async with self:
                self.detecting = False
        async with self:
            if url != self.detect_url.strip():
                return None  # the URL changed meanwhile: this answer is for another one
            self.proposals, self.detect_error = proposals, error
            if proposals:
                first = proposals[0]
                kind, _, value = first.source.partition(":")
                self.form_kind = kind if kind in VALUE_LABELS else self.form_kind
                self.form_value = value
                if first.name and not self.form_name.strip():
                    self.form_name = first.name[:MAX_NAME_CHARS]
                self.name_error = self.source_error = ""
                self.detect_note = f"Found {first.family_label}: {first.jobs_listed} jobs listed now"
        return None

    @rx.event
    @signed_in
    async def open_edit(self, company_id: int):
        user_id = self._auth_user_id
        try:
            self.form_name, self.form_kind, self.form_value = await asyncio.to_thread(
                company_fields, user_id, company_id
            )
        except CompanyNotFound:
            self.list_error = "That company no longer exists"
            await self._refresh(user_id)
            return None
        self.editing_id = company_id
        self.name_error = self.source_error = ""
        self.form_open = True

    @rx.event
    @signed_in
    async def save(self, form_data: dict[str, Any] | None = None):
        user_id = self._auth_user_id
        if form_data:
            # The submitted fields are what the user sees, even if a debounced change is still on its way.
            self.form_name = str(form_data.get("name", self.form_name))
            self.form_value = str(form_data.get("value", self.form_value))
        self.name_error = too_long("Name", self.form_name, MAX_NAME_CHARS)
        self.source_error = too_long("The source", self.form_value, MAX_SOURCE_CHARS)
        if self.name_error or self.source_error:
            return None
        try:
            source = str(make_source_spec(self.form_kind, self.form_value))
        except InvalidSourceSpec as exc:
            self.source_error = str(exc)
            return None
        try:
            saved_name = await asyncio.to_thread(
                save_company, user_id, self.editing_id, name=self.form_name, source=source
            )
        except (DuplicateCompany, CompanyLimitReached) as exc:
            self.source_error = str(exc)
            return None
        except CompanyError as exc:
            self.name_error = str(exc)
            return None
        except CompanyNotFound:
            self.list_error = "That company no longer exists"
            self.form_open = False
            await self._refresh(user_id)
            return None
        self.message = f"Saved {saved_name}"
        self.form_open = False
        await self._refresh(user_id)

    @rx.event
    @signed_in
    async def set_enabled(self, company_id: int, enabled: bool):
        user_id = self._auth_user_id
        try:
            await asyncio.to_thread(enable_company, user_id, company_id, bool(enabled))
        except CompanyNotFound:
            self.list_error = "That company no longer exists"
        await self._refresh(user_id)

    @rx.event
    @signed_in
    async def delete(self, company_id: int):
        user_id = self._auth_user_id
        try:
            await asyncio.to_thread(remove_company, user_id, company_id)
            self.selected = [i for i in self.selected if i != company_id]
            self.message = "Company deleted"
        except CompanyNotFound:
            self.list_error = "That company no longer exists"
        await self._refresh(user_id)

    @rx.event
    @signed_in
    async def apply_move(self, company_id: int):
        """The one-click fix of a company whose board moved: its source becomes the new board."""
        user_id = self._auth_user_id
        try:
            name, source = await asyncio.to_thread(move_company, user_id, company_id)
        except CompanyNotFound:
            self.list_error = "That company no longer exists"
        except (NoMoveSuggestion, CompanyError) as exc:
            self.list_error = str(exc)
        else:
            self.message = f"{name} now reads {source}"
        await self._refresh(user_id)

    @rx.event
    @signed_in
    async def add_demo_companies(self):
        user_id = self._auth_user_id
        base_url = demo_site_url()
        if not base_url:
            self.list_error = "The demo site is not running (start the app with `make run`)"
            return None
        try:
            added = await add_demo(user_id, base_url)
        except CompanyLimitReached as exc:
            self.list_error = str(exc)
            added = 0
        except (CrawlError, ImportInputError, PreviewBusy) as exc:
            self.list_error = f"The demo site's company list cannot be read: {exc}"
            return None
        else:
            self.message = f"Added {added} demo companies" if added else "The demo companies are already in your list"
        await self._refresh(user_id)


# --- the blocking work, run in worker threads ------------------------------------------------------


def too_long(what: str, value: str, limit: int) -> str:
    return f"{what} must be at most {limit} characters" if len(value) > limit else ""


async def detect_board(user_id: int, url: str) -> tuple[list[ProposalRow], str]:
    """(the boards detected behind `url`, or why none): core.detect in the listing pool."""
    try:
        detection = await detect_async(user_id, url)
    except PreviewBusy as exc:
        return [], str(exc)
    except TimeoutError:
        return [], "Detection took too long; enter the source below instead"
    rows = [
        ProposalRow(
            source=p.source,
            value=p.source.partition(":")[2],
            family=p.family,
            family_label=SOURCE_LABELS.get(p.family, p.family),
            name=p.name or "",
            jobs_listed=int(p.jobs_listed or 0),
        )
        for p in detection.proposals
    ]
    error = "" if rows else (detection.error or "No board found") + "; enter the source below instead"
    return rows, error


def plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


@dataclasses.dataclass(frozen=True)
class Listing:
    rows: list[CompanyRow]
    total: int
    page: int
    pages: int
    all_count: int
    enabled_count: int
    active_run_id: int


def health_note(health: CompanyHealth | None) -> tuple[str, str]:
    """(what to tell about the company's health, the source it seems to have moved to)."""
    if health is None:
        return "", ""
    if health.moved is not None:
        return f"Its board seems to have moved to {health.moved.source}", health.moved.source
    if health.suspect:
        return f"Listed no jobs for {health.zero_streak} runs in a row", ""
    return (health.last_error or "")[:300], ""


def load_companies(user_id: int, query: ListQuery = ListQuery()) -> Listing:
    with session_scope() as session:
        health = health_for_user(session, user_id)
        found = query_companies(
            session,
            user_id,
            search=query.search,
            family=query.family,
            health_filter=query.health,
            sort=query.sort,
            descending=query.descending,
            page=query.page,
            page_size=PAGE_SIZE,
            health={cid: h.status for cid, h in health.items()},
        )
        active = pipeline.get_active_run(session, user_id)
    rows = [company_row(c, health_note(health.get(c.id))) for c in found.rows]
    return Listing(
        rows=rows,
        total=found.total,
        page=found.page,
        pages=found.pages,
        all_count=found.all_count,
        enabled_count=found.enabled_count,
        active_run_id=int(active.run_id) if active is not None else 0,
    )


def enable_many(user_id: int, company_ids: list[int], enabled: bool) -> int:
    with session_scope() as session:
        return set_enabled(session, user_id, company_ids, enabled)


def remove_many(user_id: int, company_ids: list[int]) -> int:
    with session_scope() as session:
        return delete_many(session, user_id, company_ids)


def company_fields(user_id: int, company_id: int) -> tuple[str, str, str]:
    with session_scope() as session:
        company = get_company(session, user_id, company_id)
        return company.name, company.source_kind, company.source_value


def save_company(user_id: int, company_id: int, *, name: str, source: str) -> str:
    with session_scope() as session:
        if company_id:
            company = update_company(session, user_id, company_id, name=name, source=source)
        else:
            company = add_company(session, user_id, name=name, source=source)
        return company.name


def enable_company(user_id: int, company_id: int, enabled: bool) -> None:
    with session_scope() as session:
        update_company(session, user_id, company_id, enabled=enabled)


def move_company(user_id: int, company_id: int) -> tuple[str, str]:
    with session_scope() as session:
        company = apply_move(session, user_id, company_id)
        return company.name, company.source


def remove_company(user_id: int, company_id: int) -> None:
    with session_scope() as session:
        delete_company(session, user_id, company_id)


async def add_demo(user_id: int, base_url: str) -> int:
    """Add the companies the demo site lists at `/companies.csv` (the ones already kept are skipped).
    The list is fetched and added in the bounded listing pool, under its deadline."""
    future = listing_pool.get_pool().submit(user_id, lambda: add_listed(user_id, f"{base_url}{DEMO_COMPANIES_PATH}"))
    seconds = get_settings().preview_timeout
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout=seconds + DEMO_GRACE_SECONDS)
    except TimeoutError:  # waited in the pool's queue past the deadline
        raise PreviewBusy(f"took longer than {seconds:g} s; stopped") from None


def add_listed(user_id: int, url: str) -> int:
    added = 0
    for row in fetch_rows(url):
        if row.error:
            continue
        try:
            with session_scope() as session:
                add_company(session, user_id, name=row.name or "", source=row.input)
            added += 1
        except DuplicateCompany:
            continue
    return added
