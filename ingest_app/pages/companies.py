"""Stage 1: the companies whose listings a run brings in."""

import reflex as rx

from ingest_app import routes
from ingest_app.components.company_dialog import company_dialog
from ingest_app.components.company_table import bulk_bar, company_table, pager
from ingest_app.components.empty_state import empty_state
from ingest_app.components.layout import page_shell
from ingest_app.components.stepper import stepper
from ingest_app.states.companies import ALL, HEALTH_LABELS, SORT_LABELS, CompaniesState
from ingest_app.states.company_import import ImportState
from ingest_app.states.rows import SOURCE_LABELS


def _toolbar() -> rx.Component:
    return rx.flex(
        rx.button(rx.icon("plus", size=16), "Add company", on_click=CompaniesState.open_add, id="add-company"),
        rx.cond(
            CompaniesState.demo_available,
            rx.button(
                rx.icon("flask_conical", size=16),
                "Add demo companies",
                on_click=CompaniesState.add_demo_companies,
                variant="soft",
                color_scheme="amber",
                high_contrast=True,
                id="add-demo",
                title="Fictional companies served by the local demo site (loopback only)",
            ),
        ),
        rx.link(
            rx.button(rx.icon("file_up", size=16), "Import", variant="soft", high_contrast=True, id="to-import"),
            href=routes.COMPANY_IMPORT,
        ),
        rx.button(
            rx.icon("file_down", size=16),
            "Export CSV",
            variant="soft",
            high_contrast=True,
            on_click=ImportState.export,
            id="companies-export",
        ),
        rx.spacer(),
        rx.link(
            rx.button(
                "Preview ",
                CompaniesState.enabled_count,
                rx.cond(CompaniesState.enabled_count == 1, " company", " companies"),
                rx.icon("arrow_right", size=16),
                disabled=CompaniesState.enabled_count == 0,
                id="to-preview",
            ),
            href=routes.PREVIEW,
        ),
        spacing="3",
        wrap="wrap",
        align="center",
    )


def _select(value, on_change, items: dict[str, str], label: str, control_id: str, all_label: str = "") -> rx.Component:
    options = ([rx.select.item(all_label, value=ALL)] if all_label else []) + [
        rx.select.item(text, value=key) for key, text in items.items()
    ]
    return rx.select.root(
        rx.select.trigger(id=control_id, aria_label=label, min_width="150px"),
        rx.select.content(*options),
        value=value,
        on_change=on_change,
        size="2",
    )


def _filters() -> rx.Component:
    """Search, filters and sort; each change asks the server for the first page again."""
    return rx.flex(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            value=CompaniesState.search,
            on_change=CompaniesState.set_search,
            placeholder="Search companies by name or board…",
            id="company-search",
            aria_label="Search companies",
            flex="1",
            min_width="200px",
        ),
        _select(
            CompaniesState.family_filter,
            CompaniesState.set_family_filter,
            SOURCE_LABELS,
            "Filter by source family",
            "family-filter",
            "All families",
        ),
        _select(
            CompaniesState.health_filter,
            CompaniesState.set_health_filter,
            HEALTH_LABELS,
            "Filter by health",
            "health-filter",
            "Any health",
        ),
        _select(CompaniesState.sort, CompaniesState.set_sort, SORT_LABELS, "Sort by", "company-sort"),
        rx.icon_button(
            rx.cond(
                CompaniesState.descending,
                rx.icon("arrow_down_wide_narrow", size=16),
                rx.icon("arrow_up_narrow_wide", size=16),
            ),
            on_click=CompaniesState.toggle_descending,
            variant="soft",
            high_contrast=True,
            aria_label=rx.cond(
                CompaniesState.descending, "Sorted descending; sort ascending", "Sorted ascending; sort descending"
            ),
            id="sort-direction",
        ),
        spacing="2",
        wrap="wrap",
        align="center",
        width="100%",
    )


def _messages() -> rx.Component:
    return rx.fragment(
        rx.cond(
            CompaniesState.active_run_id > 0,
            rx.callout(
                rx.hstack(
                    rx.text("An ingestion run is in progress."),
                    rx.link("Show its progress", href=routes.RUN, weight="bold"),
                    wrap="wrap",
                ),
                icon="loader",
                color_scheme="blue",
                high_contrast=True,
            ),
        ),
        rx.cond(
            CompaniesState.message != "",
            rx.callout(CompaniesState.message, icon="check", color_scheme="green", high_contrast=True),
        ),
        rx.cond(
            CompaniesState.list_error != "",
            rx.callout(CompaniesState.list_error, icon="triangle_alert", color_scheme="red", high_contrast=True),
        ),
    )


@rx.page(route=routes.COMPANIES, title="Companies · Job ingestion", on_load=CompaniesState.load)
def companies_page() -> rx.Component:
    return page_shell(
        "Companies",
        stepper(1),
        rx.text(
            "Each company is an ATS board (Greenhouse, Lever, Ashby) or a careers page. "
            "Enabled companies take part in the next run.",
            color_scheme="gray",
        ),
        _messages(),
        _toolbar(),
        rx.cond(
            CompaniesState.loaded & (CompaniesState.all_count == 0),
            empty_state(
                "building_2",
                "No companies yet",
                "Add the companies whose job listings you want to keep in your database.",
                rx.button(rx.icon("plus", size=16), "Add company", on_click=CompaniesState.open_add),
            ),
            rx.vstack(
                _filters(),
                bulk_bar(),
                company_table(),
                pager(),
                spacing="3",
                width="100%",
            ),
        ),
        rx.cond(
            CompaniesState.demo_available,
            rx.text(
                "The demo companies are fictional and served by a local demo site on this machine (loopback only).",
                size="1",
                color_scheme="gray",
            ),
        ),
        company_dialog(),
    )
