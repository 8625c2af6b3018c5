"""Stage 1: the user's companies (list, add, edit, enable/disable, delete, demo companies)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import reflex as rx

from ingest_app.core import pipeline
from ingest_app.core.companies import (
    CompanyError,
    CompanyLimitReached,
    CompanyNotFound,
    DuplicateCompany,
    add_company,
    delete_company,
    get_company,
    list_companies,
    update_company,
)
from ingest_app.core.crawl.sources import FAMILIES
from ingest_app.core.db import session_scope
from ingest_app.core.models import Company
from ingest_app.core.sources import InvalidSourceSpec, make_source_spec
from ingest_app.states.auth import AuthState, signed_in
from ingest_app.states.rows import SOURCE_LABELS, CompanyRow

# The source picker offers every family of the one family table, each with its example.
VALUE_LABELS = {family.name: family.value_label for family in FAMILIES}
VALUE_PLACEHOLDERS = {
    family.name: ("e.g. " if "://" not in family.value_example else "") + family.value_example for family in FAMILIES
}
VALUE_HINTS = {family.name: f"Example: {family.example}" for family in FAMILIES}


def demo_site_url() -> str:
    """The local demo site the dev supervisor started, if any."""
    return os.environ.get("DEMO_SITE_URL", "").strip()


MAX_NAME_CHARS = 200
MAX_SOURCE_CHARS = 2048


def company_row(company: Company) -> CompanyRow:
    return CompanyRow(
        id=company.id or 0,
        name=company.name,
        source_kind=company.source_kind,
        source_label=SOURCE_LABELS.get(company.source_kind, company.source_kind),
        source_value=company.source_value,
        enabled=company.enabled,
    )


class CompaniesState(AuthState):
    companies: list[CompanyRow] = []
    loaded: bool = False
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
    def enabled_count(self) -> int:
        return sum(1 for company in self.companies if company.enabled)

    async def _refresh(self, user_id: int) -> None:
        self.companies, self.active_run_id = await asyncio.to_thread(load_companies, user_id)
        self.demo_available = bool(demo_site_url())
        self.loaded = True

    @rx.event
    @signed_in
    async def load(self):
        self.message = self.list_error = ""
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
        self.form_open = True

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
            self.message = "Company deleted"
        except CompanyNotFound:
            self.list_error = "That company no longer exists"
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
            added = await asyncio.to_thread(add_demo, user_id, base_url)
        except CompanyLimitReached as exc:
            self.list_error = str(exc)
            added = 0
        else:
            self.message = f"Added {added} demo companies" if added else "The demo companies are already in your list"
        await self._refresh(user_id)


# --- the blocking work, run in worker threads ------------------------------------------------------


def too_long(what: str, value: str, limit: int) -> str:
    return f"{what} must be at most {limit} characters" if len(value) > limit else ""


def load_companies(user_id: int) -> tuple[list[CompanyRow], int]:
    with session_scope() as session:
        rows = [company_row(c) for c in list_companies(session, user_id)]
        active = pipeline.get_active_run(session, user_id)
    return rows, int(active.run_id) if active is not None else 0


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


def remove_company(user_id: int, company_id: int) -> None:
    with session_scope() as session:
        delete_company(session, user_id, company_id)


def add_demo(user_id: int, base_url: str) -> int:
    from ingest_app.demo.site import demo_company_sources

    added = 0
    for spec in demo_company_sources(base_url):
        try:
            with session_scope() as session:
                add_company(session, user_id, name=spec["name"], source=spec["source"])
            added += 1
        except DuplicateCompany:
            continue
    return added
