"""Stage 1: the companies whose listings a run brings in."""

import reflex as rx

from ingest_app.components.empty_state import empty_state
from ingest_app.components.form_field import form_field
from ingest_app.components.layout import page_shell
from ingest_app.components.stepper import stepper
from ingest_app.states.companies import CompaniesState
from ingest_app.states.rows import SOURCE_LABELS, CompanyRow


def _company_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(CompaniesState.editing_id > 0, "Edit company", "Add company")),
            rx.vstack(
                form_field(
                    "Name",
                    rx.input(
                        value=CompaniesState.form_name,
                        on_change=CompaniesState.set_form_name,
                        placeholder="Acme Inc.",
                        id="company-name",
                        width="100%",
                    ),
                    CompaniesState.name_error,
                ),
                form_field(
                    "Source",
                    rx.select.root(
                        rx.select.trigger(width="100%", id="company-kind"),
                        rx.select.content(
                            *[rx.select.item(label, value=kind) for kind, label in SOURCE_LABELS.items()],
                        ),
                        value=CompaniesState.form_kind,
                        on_change=CompaniesState.set_form_kind,
                    ),
                    rx.Var.create(""),
                ),
                form_field(
                    CompaniesState.value_label,
                    rx.input(
                        value=CompaniesState.form_value,
                        on_change=CompaniesState.set_form_value,
                        placeholder=CompaniesState.value_placeholder,
                        id="company-value",
                        width="100%",
                    ),
                    CompaniesState.source_error,
                ),
                rx.flex(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Save", on_click=CompaniesState.save, id="company-save"),
                    spacing="3",
                    justify="end",
                    width="100%",
                ),
                spacing="4",
            ),
            max_width="460px",
        ),
        open=CompaniesState.form_open,
        on_open_change=CompaniesState.set_form_open,
    )


def _delete_button(company: CompanyRow) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(rx.icon("trash_2", size=14), "Delete", size="1", variant="soft", color_scheme="red")
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete ", company.name, "?"),
            rx.alert_dialog.description(
                "The company leaves your list and future runs. Jobs already ingested from it stay in your jobs list."
            ),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Delete", color_scheme="red", on_click=CompaniesState.delete(company.id)),
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
            max_width="440px",
        ),
    )


def _company_card(company: CompanyRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(company.name, weight="bold", size="3", trim="both", class_name="company-name"),
                rx.spacer(),
                rx.switch(
                    checked=company.enabled,
                    on_change=lambda value: CompaniesState.set_enabled(company.id, value),
                    aria_label="Include in runs",
                ),
                align="center",
                width="100%",
            ),
            rx.hstack(
                rx.badge(company.source_label, variant="soft"),
                rx.text(company.source_value, size="1", color_scheme="gray", class_name="break-all"),
                align="center",
                wrap="wrap",
            ),
            rx.hstack(
                rx.cond(
                    company.enabled,
                    rx.text("Included in runs", size="1", color_scheme="green"),
                    rx.text("Disabled", size="1", color_scheme="gray"),
                ),
                rx.spacer(),
                rx.button(
                    rx.icon("pencil", size=14),
                    "Edit",
                    size="1",
                    variant="soft",
                    on_click=CompaniesState.open_edit(company.id),
                ),
                _delete_button(company),
                align="center",
                width="100%",
            ),
            spacing="2",
        ),
        width="100%",
    )


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
                id="add-demo",
                title="Fictional companies served by the local demo site (loopback only)",
            ),
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
            href="/preview",
        ),
        spacing="3",
        wrap="wrap",
        align="center",
    )


def _messages() -> rx.Component:
    return rx.fragment(
        rx.cond(
            CompaniesState.active_run_id > 0,
            rx.callout(
                rx.hstack(
                    rx.text("An ingestion run is in progress."),
                    rx.link("Show its progress", href="/run", weight="bold"),
                    wrap="wrap",
                ),
                icon="loader",
                color_scheme="blue",
            ),
        ),
        rx.cond(CompaniesState.message != "", rx.callout(CompaniesState.message, icon="check", color_scheme="green")),
        rx.cond(
            CompaniesState.list_error != "",
            rx.callout(CompaniesState.list_error, icon="triangle_alert", color_scheme="red"),
        ),
    )


@rx.page(route="/companies", title="Companies · Job ingestion", on_load=CompaniesState.load)
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
            CompaniesState.loaded & (CompaniesState.companies.length() == 0),
            empty_state(
                "building_2",
                "No companies yet",
                "Add the companies whose job listings you want to keep in your database.",
                rx.button(rx.icon("plus", size=16), "Add company", on_click=CompaniesState.open_add),
            ),
            rx.grid(
                rx.foreach(CompaniesState.companies, _company_card),
                columns=rx.breakpoints(initial="1", sm="2", lg="3"),
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
        _company_dialog(),
    )
