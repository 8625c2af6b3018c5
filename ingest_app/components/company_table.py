"""Stage 1 at hundreds of companies: a compact table of one page of them, with row selection,
the include switch, edit and (confirmed) delete per row, and the bulk bar for the selection."""

import reflex as rx

from ingest_app.components.health_badge import health_badge
from ingest_app.states.companies import CompaniesState
from ingest_app.states.rows import CompanyRow

# Columns a phone does without (the name, switch and actions stay).
WIDE = rx.breakpoints(initial="none", md="table-cell")


def _delete_button(company: CompanyRow) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon("trash_2", size=14), "Delete", size="1", variant="soft", color_scheme="red", high_contrast=True
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete ", company.name, "?"),
            rx.alert_dialog.description(
                "The company leaves your list and future runs. Jobs already ingested from it stay in your jobs list."
            ),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray", high_contrast=True)),
                rx.alert_dialog.action(
                    rx.button(
                        "Delete", color_scheme="red", high_contrast=True, on_click=CompaniesState.delete(company.id)
                    ),
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
            max_width="440px",
        ),
    )


def _health(company: CompanyRow) -> rx.Component:
    return rx.vstack(
        rx.box(health_badge(company.health), title=company.health_note),
        rx.cond(
            company.moved_to != "",
            rx.button(
                rx.icon("move_right", size=12),
                "moved? use new board",
                size="1",
                variant="soft",
                color_scheme="amber",
                high_contrast=True,
                title=company.moved_to,
                on_click=CompaniesState.apply_move(company.id),
                class_name="fix-moved",
            ),
        ),
        spacing="1",
    )


def company_row(company: CompanyRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.checkbox(
                checked=CompaniesState.selected.contains(company.id),
                on_change=lambda value: CompaniesState.toggle_selected(company.id, value),
                aria_label="Select " + company.name,
                class_name="company-select",
            ),
        ),
        rx.table.row_header_cell(
            rx.vstack(
                rx.text(company.name, weight="bold", size="2", class_name="company-name"),
                rx.hstack(
                    rx.badge(company.source_label, variant="soft", high_contrast=True, size="1"),
                    rx.text(company.source_value, size="1", color_scheme="gray", class_name="break-all"),
                    align="center",
                    wrap="wrap",
                    spacing="1",
                ),
                spacing="1",
            ),
        ),
        rx.table.cell(_health(company)),
        rx.table.cell(rx.text(company.jobs, size="2"), display=WIDE, class_name="company-jobs"),
        rx.table.cell(
            rx.text(rx.cond(company.last_run != "", company.last_run, "never"), size="1", color_scheme="gray"),
            display=WIDE,
        ),
        rx.table.cell(
            rx.hstack(
                rx.switch(
                    checked=company.enabled,
                    on_change=lambda value: CompaniesState.set_enabled(company.id, value),
                    aria_label="Include " + company.name + " in runs",
                ),
                rx.button(
                    rx.icon("pencil", size=14),
                    "Edit",
                    size="1",
                    variant="soft",
                    high_contrast=True,
                    on_click=CompaniesState.open_edit(company.id),
                ),
                _delete_button(company),
                align="center",
                spacing="2",
                wrap="wrap",  # a phone stacks the actions instead of scrolling the table
            ),
        ),
        align="center",
        class_name="company-row",
    )


def company_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell(
                        rx.checkbox(
                            checked=CompaniesState.page_selected,
                            on_change=CompaniesState.select_page,
                            aria_label="Select all companies on this page",
                            id="select-page",
                        ),
                        width="2.5rem",
                    ),
                    rx.table.column_header_cell("Company"),
                    rx.table.column_header_cell("Health"),
                    rx.table.column_header_cell("Jobs", display=WIDE),
                    rx.table.column_header_cell("Last run", display=WIDE),
                    rx.table.column_header_cell("Include · actions"),
                ),
            ),
            rx.table.body(rx.foreach(CompaniesState.companies, company_row)),
            size="1",
            variant="surface",
            width="100%",
        ),
        width="100%",
        overflow_x="auto",
    )


def _bulk_delete() -> rx.Component:
    """Delete the selection, after a confirmation that says what stays (the jobs already ingested)."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon("trash_2", size=14),
                "Delete",
                size="1",
                color_scheme="red",
                high_contrast=True,
                id="bulk-delete",
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title(
                rx.cond(
                    CompaniesState.selected_count == 1,
                    "Delete 1 company?",
                    "Delete " + CompaniesState.selected_count.to_string() + " companies?",
                )
            ),
            rx.alert_dialog.description(
                "They leave your list and future runs. Jobs already ingested from them stay in your jobs list."
            ),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray", high_contrast=True)),
                rx.alert_dialog.action(
                    rx.button(
                        "Delete them",
                        color_scheme="red",
                        high_contrast=True,
                        on_click=CompaniesState.bulk_delete,
                        id="confirm-bulk-delete",
                    ),
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
            max_width="440px",
        ),
        open=CompaniesState.bulk_delete_open,
        on_open_change=CompaniesState.set_bulk_delete_open,
    )


def bulk_bar() -> rx.Component:
    """What to do with the selected companies (shown while there is a selection)."""
    return rx.cond(
        CompaniesState.selected_count > 0,
        rx.flex(
            rx.text(CompaniesState.selected_count, " selected", weight="medium", id="selected-count"),
            rx.button("Enable", size="1", on_click=CompaniesState.bulk_set_enabled(True), id="bulk-enable"),
            rx.button(
                "Disable",
                size="1",
                variant="soft",
                high_contrast=True,
                on_click=CompaniesState.bulk_set_enabled(False),
                id="bulk-disable",
            ),
            _bulk_delete(),
            rx.button(
                "Clear selection",
                size="1",
                variant="ghost",
                high_contrast=True,
                on_click=CompaniesState.clear_selection,
            ),
            spacing="3",
            align="center",
            wrap="wrap",
            padding="0.5rem",
            border_radius="var(--radius-3)",
            background=rx.color("accent", 3),
            id="bulk-bar",
        ),
    )


def pager() -> rx.Component:
    return rx.flex(
        rx.text(CompaniesState.range_text, size="2", color_scheme="gray", id="companies-range"),
        rx.spacer(),
        rx.button(
            rx.icon("chevron_left", size=14),
            "Previous",
            size="1",
            variant="soft",
            high_contrast=True,
            disabled=CompaniesState.page <= 1,
            on_click=CompaniesState.go_to_page(CompaniesState.page - 1),
            id="page-prev",
        ),
        rx.text("Page ", CompaniesState.page, " of ", CompaniesState.pages, size="2", id="page-of"),
        rx.button(
            "Next",
            rx.icon("chevron_right", size=14),
            size="1",
            variant="soft",
            high_contrast=True,
            disabled=CompaniesState.page >= CompaniesState.pages,
            on_click=CompaniesState.go_to_page(CompaniesState.page + 1),
            id="page-next",
        ),
        spacing="2",
        align="center",
        wrap="wrap",
        width="100%",
    )
