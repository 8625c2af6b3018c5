"""Import companies: paste URLs/specs or choose a CSV, check the rows, import the ticked ones."""

import reflex as rx

from ingest_app import routes
from ingest_app.components.form_field import form_field
from ingest_app.components.layout import page_shell
from ingest_app.states.company_import import ImportPreviewRow, ImportState

UPLOAD_ID = "import-csv"


def _status(status) -> rx.Component:
    return rx.match(
        status,
        ("new", rx.badge("new", color_scheme="green", high_contrast=True)),
        ("added", rx.badge(rx.icon("check", size=12), "added", color_scheme="green", high_contrast=True)),
        ("duplicate", rx.badge("duplicate", color_scheme="amber", high_contrast=True)),
        rx.badge("error", color_scheme="red", high_contrast=True),
    )


def _row(row: ImportPreviewRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.checkbox(
                checked=row.accepted,
                disabled=row.status != "new",
                on_change=lambda value: ImportState.set_accepted(row.row, value),
                aria_label="Import row " + row.row.to_string(),
            )
        ),
        rx.table.cell(row.row),
        rx.table.row_header_cell(
            rx.vstack(
                rx.text(row.name, weight="bold", size="2", class_name="import-name"),
                rx.text(row.input, size="1", color_scheme="gray", class_name="break-all"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.cond(
                row.source != "",
                rx.vstack(
                    rx.badge(row.family, variant="soft", high_contrast=True, size="1"),
                    rx.text(row.source, size="1", class_name="break-all import-source"),
                    spacing="1",
                ),
            )
        ),
        rx.table.cell(row.jobs_listed, class_name="import-jobs"),
        rx.table.cell(
            rx.vstack(
                _status(row.status),
                rx.text(row.note, size="1", color_scheme="gray", class_name="break-all"),
                spacing="1",
            ),
            class_name="import-status",
        ),
        class_name="import-row",
    )


def _input() -> rx.Component:
    return rx.card(
        rx.vstack(
            form_field(
                "URLs or sources, one a line (or CSV text with a url/source column)",
                rx.text_area(
                    value=ImportState.text,
                    on_change=ImportState.set_text,
                    placeholder="https://acme.example/careers\ngreenhouse:northwind\nname,url\nAcme,https://…",
                    id="import-text",
                    rows="6",
                    width="100%",
                ),
                ImportState.text_error,
            ),
            rx.flex(
                rx.button(
                    rx.cond(ImportState.checking, rx.spinner(size="1"), rx.icon("list_checks", size=16)),
                    "Check rows",
                    on_click=ImportState.check,
                    disabled=ImportState.checking,
                    id="import-check",
                ),
                # The label around the dropzone names its file input; a click on it opens the file
                # chooser once (the dropzone's own click is off), Enter/Space on the zone too.
                rx.el.label(
                    rx.upload.root(
                        rx.hstack(
                            rx.icon("upload", size=16),
                            rx.text("Choose a CSV file…", size="2", weight="medium"),
                            align="center",
                            spacing="2",
                        ),
                        id=UPLOAD_ID,
                        accept={"text/csv": [".csv"], "text/plain": [".txt"]},
                        max_files=1,
                        no_click=True,
                        on_drop=ImportState.upload(rx.upload_files(upload_id=UPLOAD_ID)),
                        padding="0.4rem 0.9rem",
                        border=f"1px dashed {rx.color('gray', 8)}",
                        border_radius="var(--radius-2)",
                        cursor="pointer",
                        _focus_visible={"outline": f"2px solid {rx.color('accent', 8)}"},
                        class_name="import-csv-zone",
                    ),
                ),
                rx.cond(ImportState.checking, rx.text("Checking each row…", size="2", color_scheme="gray")),
                spacing="3",
                align="center",
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _results() -> rx.Component:
    return rx.cond(
        ImportState.rows.length() > 0,
        rx.vstack(
            rx.hstack(
                rx.text(ImportState.counts_text, weight="medium", id="import-counts"),
                rx.spacer(),
                rx.button(
                    rx.icon("download", size=16),
                    "Import ",
                    ImportState.accepted_count,
                    " companies",
                    on_click=ImportState.commit,
                    disabled=ImportState.accepted_count == 0,
                    id="import-commit",
                ),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Import"),
                            rx.table.column_header_cell("Row"),
                            rx.table.column_header_cell("Company"),
                            rx.table.column_header_cell("Detected source"),
                            rx.table.column_header_cell("Jobs now"),
                            rx.table.column_header_cell("Status"),
                        )
                    ),
                    rx.table.body(rx.foreach(ImportState.rows, _row)),
                    size="1",
                    variant="surface",
                    width="100%",
                ),
                overflow_x="auto",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
    )


@rx.page(route=routes.COMPANY_IMPORT, title="Import companies · Job ingestion", on_load=ImportState.load)
def import_page() -> rx.Component:
    return page_shell(
        "Import companies",
        rx.text(
            "Paste careers-page or board URLs (or source specs like greenhouse:acme), or choose a CSV "
            "with a name and url column. Each row is checked live before anything is added.",
            color_scheme="gray",
        ),
        _input(),
        rx.cond(
            ImportState.summary != "",
            rx.callout(
                ImportState.summary, icon="check", color_scheme="green", high_contrast=True, id="import-summary"
            ),
        ),
        _results(),
        rx.flex(
            rx.link(
                rx.button(
                    rx.icon("arrow_left", size=16), "Companies", variant="soft", color_scheme="gray", high_contrast=True
                ),
                href=routes.COMPANIES,
                id="import-back",
            ),
            rx.spacer(),
            rx.button(
                rx.icon("file_down", size=16),
                "Export CSV",
                variant="soft",
                high_contrast=True,
                on_click=ImportState.export,
                id="export-csv",
            ),
            width="100%",
            align="center",
        ),
    )
