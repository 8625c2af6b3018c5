"""Ingestion history: past runs, newest first."""

import reflex as rx

from ingest_app import routes
from ingest_app.components.empty_state import empty_state
from ingest_app.components.layout import page_shell
from ingest_app.components.status_badge import status_badge
from ingest_app.states.history import LIMIT_CHOICES, HistoryState
from ingest_app.states.rows import HistoryRow

COLUMNS = ["Date", "Companies", "Changes", "Found", "Added", "Archived", "Failed", "Skipped", "Duration", "Status"]


def _row(run: HistoryRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(run.date, href=routes.RUN_OF + run.run_id.to_string(), white_space="nowrap")),
        rx.table.cell(rx.text(run.companies, size="1"), min_width="160px"),
        rx.table.cell(
            rx.link(
                run.changes, href=routes.JOBS_OF_RUN + run.run_id.to_string(), size="1", class_name="history-changes"
            ),
            min_width="140px",
        ),
        rx.table.cell(run.found),
        rx.table.cell(rx.text(run.added, color_scheme="green", weight="medium")),
        rx.table.cell(rx.text(run.archived, color_scheme="amber", weight="medium")),
        rx.table.cell(rx.text(run.failed, color_scheme="red", weight="medium")),
        rx.table.cell(rx.text(run.skipped, color_scheme="gray")),
        rx.table.cell(run.duration, white_space="nowrap"),
        rx.table.cell(
            rx.tooltip(status_badge(run.status), content=rx.cond(run.error != "", run.error, run.status)),
        ),
        class_name="history-row",
    )


def _limit_selector() -> rx.Component:
    return rx.hstack(
        rx.text("Show last", size="2", as_="label", custom_attrs={"htmlFor": "history-limit"}),
        rx.select(
            LIMIT_CHOICES,
            value=HistoryState.limit,
            on_change=HistoryState.set_limit,
            size="1",
            id="history-limit",
            aria_label="Number of runs to show",
        ),
        rx.text("runs", size="2"),
        align="center",
    )


@rx.page(route=routes.HISTORY, title="History · Job ingestion", on_load=HistoryState.load)
def history_page() -> rx.Component:
    return page_shell(
        "Ingestion history",
        rx.flex(
            rx.text("Past runs, newest first. Open one for its full results.", color_scheme="gray"),
            rx.spacer(),
            _limit_selector(),
            spacing="3",
            wrap="wrap",
            align="center",
        ),
        rx.cond(
            HistoryState.loaded & (HistoryState.runs.length() == 0),
            empty_state(
                "history",
                "No runs yet",
                "Your ingestion runs will be listed here.",
                rx.link(rx.button("Go to companies"), href=routes.COMPANIES),
            ),
            rx.box(
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(c) for c in COLUMNS])),
                    rx.table.body(rx.foreach(HistoryState.runs, _row)),
                    variant="surface",
                    size="1",
                    width="100%",
                ),
                overflow_x="auto",
                width="100%",
            ),
        ),
    )
