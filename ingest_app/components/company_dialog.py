"""The add/edit company dialog: name, source picker and the token/URL field, errors inline."""

import reflex as rx

from ingest_app.components.form_field import form_field
from ingest_app.states.companies import CompaniesState
from ingest_app.states.rows import SOURCE_LABELS


def company_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(CompaniesState.editing_id > 0, "Edit company", "Add company")),
            rx.form(
                rx.vstack(
                    form_field(
                        "Name",
                        rx.input(
                            value=CompaniesState.form_name,
                            on_change=CompaniesState.set_form_name,
                            placeholder="Acme Inc.",
                            id="company-name",
                            name="name",
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
                        control_id="company-kind",
                    ),
                    form_field(
                        CompaniesState.value_label,
                        rx.input(
                            value=CompaniesState.form_value,
                            on_change=CompaniesState.set_form_value,
                            placeholder=CompaniesState.value_placeholder,
                            id="company-value",
                            name="value",
                            width="100%",
                        ),
                        CompaniesState.source_error,
                        CompaniesState.value_hint,
                    ),
                    rx.flex(
                        rx.dialog.close(
                            rx.button("Cancel", type="button", variant="soft", color_scheme="gray", high_contrast=True)
                        ),
                        rx.button("Save", type="submit", id="company-save"),
                        spacing="3",
                        justify="end",
                        width="100%",
                    ),
                    spacing="4",
                ),
                on_submit=CompaniesState.save,
                reset_on_submit=False,
            ),
            max_width="460px",
        ),
        open=CompaniesState.form_open,
        on_open_change=CompaniesState.set_form_open,
    )
