"""The add/edit company dialog: a URL first ("Detect" finds the board behind it and fills the
fields), then the name, source picker and token/URL field (editable, errors inline)."""

import reflex as rx

from ingest_app.components.form_field import form_field
from ingest_app.states.companies import CompaniesState
from ingest_app.states.rows import SOURCE_LABELS, ProposalRow


def _proposal(proposal: ProposalRow) -> rx.Component:
    return rx.button(
        rx.badge(proposal.family_label, variant="soft", high_contrast=True),
        rx.text(proposal.name, " · ", proposal.jobs_listed, " jobs", size="1", as_="span"),
        type="button",
        size="1",
        variant=rx.cond(CompaniesState.form_value == proposal.value, "surface", "ghost"),
        high_contrast=True,
        on_click=CompaniesState.use_proposal(proposal.source),
        title=proposal.source,
        class_name="detected-board",
    )


def _detect() -> rx.Component:
    """Only when adding: paste a URL, "Detect" proposes the board(s) behind it."""
    return rx.cond(
        CompaniesState.editing_id == 0,
        rx.vstack(
            rx.form(
                rx.flex(
                    rx.box(
                        form_field(
                            "Careers page or job board URL",
                            rx.input(
                                value=CompaniesState.detect_url,
                                on_change=CompaniesState.set_detect_url,
                                placeholder="https://acme.example/careers",
                                id="detect-url",
                                name="detect_url",
                                type="url",
                                width="100%",
                            ),
                            CompaniesState.detect_error,
                            rx.cond(CompaniesState.detect_note != "", CompaniesState.detect_note, ""),
                        ),
                        flex="1",
                    ),
                    rx.button(
                        rx.cond(CompaniesState.detecting, rx.spinner(size="1"), rx.icon("scan_search", size=16)),
                        "Detect",
                        type="submit",
                        variant="soft",
                        high_contrast=True,
                        disabled=CompaniesState.detecting,
                        id="detect-run",
                        margin_top="1.4rem",
                    ),
                    spacing="2",
                    align="start",
                    width="100%",
                ),
                on_submit=lambda _data: CompaniesState.detect,
                reset_on_submit=False,
                width="100%",
            ),
            rx.cond(
                CompaniesState.proposals.length() > 1,
                rx.flex(
                    rx.text("Boards found:", size="1", color_scheme="gray"),
                    rx.foreach(CompaniesState.proposals, _proposal),
                    spacing="2",
                    wrap="wrap",
                    align="center",
                ),
            ),
            rx.separator(size="4"),
            rx.text("Or enter the source yourself:", size="1", color_scheme="gray"),
            spacing="2",
            width="100%",
        ),
    )


def company_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(CompaniesState.editing_id > 0, "Edit company", "Add company")),
            _detect(),
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
            max_width="520px",
        ),
        open=CompaniesState.form_open,
        on_open_change=CompaniesState.set_form_open,
    )
