"""One company of stage 1: source, enable switch, edit and (confirmed) delete."""

import reflex as rx

from ingest_app.states.companies import CompaniesState
from ingest_app.states.rows import CompanyRow


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


def company_card(company: CompanyRow) -> rx.Component:
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
                rx.badge(company.source_label, variant="soft", high_contrast=True),
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
                    high_contrast=True,
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
