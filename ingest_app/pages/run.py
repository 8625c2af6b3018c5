"""Stages 3-5 of a run: archiving, live progress, results."""

import reflex as rx

from ingest_app.components.empty_state import empty_state
from ingest_app.components.layout import page_shell
from ingest_app.components.reset_dialog import reset_dialog
from ingest_app.components.stat_card import stat_card
from ingest_app.components.status_badge import status_badge
from ingest_app.components.stepper import stepper
from ingest_app.states.rows import FailedItemRow, RunCompanyRow
from ingest_app.states.run import POLL_INTERVAL_MS, RunState


def _poller() -> rx.Component:
    """A hidden timer that fires RunState.tick while the run is active; leaving the page unmounts
    it (no more ticks) and turns polling off."""
    return rx.box(
        rx.cond(
            RunState.polling,
            rx.moment(interval=POLL_INTERVAL_MS, on_change=RunState.tick, id="poller"),
        ),
        display="none",
        on_unmount=RunState.stop_polling,
    )


def _archiving() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.spinner(size="3"), rx.heading("Archiving jobs no longer listed...", size="5"), align="center"),
            rx.text(
                "Jobs of this run's companies that their source no longer lists are being archived. "
                "Crawling starts right after.",
                color_scheme="gray",
            ),
            rx.text("Elapsed: ", RunState.elapsed, size="2", color_scheme="gray"),
            reset_dialog(RunState.confirm_reset, RunState.reset_error),
            spacing="3",
        ),
        width="100%",
        id="stage-3",
    )


def _progress() -> rx.Component:
    return rx.vstack(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading("Ingesting jobs", size="5"),
                    rx.spinner(size="2"),
                    rx.spacer(),
                    rx.text(RunState.percent, "%", weight="bold", id="percent"),
                    align="center",
                    width="100%",
                ),
                rx.progress(value=RunState.percent, max=100, size="3", width="100%"),
                rx.text(
                    RunState.processed,
                    " of ",
                    RunState.total,
                    " job URLs processed",
                    id="processed-of-total",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
            id="stage-4",
        ),
        rx.flex(
            stat_card("Processed", RunState.processed, "indigo", "stat-processed"),
            stat_card("Added", RunState.added, "green", "stat-added"),
            stat_card("Failed", RunState.failed, "red", "stat-failed"),
            stat_card("Archived", RunState.archived, "amber", "stat-archived"),
            stat_card("Elapsed", RunState.elapsed, "gray", "stat-elapsed"),
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.text(
            "You can leave this page: the run continues, and coming back shows it where it is. "
            "Refreshes every 3 seconds.",
            size="2",
            color_scheme="gray",
        ),
        reset_dialog(RunState.confirm_reset, RunState.reset_error),
        spacing="3",
        width="100%",
    )


def _company_row(company: RunCompanyRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(company.name, weight="medium"), rx.text(company.source, size="1", color_scheme="gray")),
        rx.table.cell(company.listed),
        rx.table.cell(rx.text(company.archived, color_scheme="amber")),
        rx.table.cell(rx.text(company.note, size="1", color_scheme="red")),
    )


def _failed_row(item: FailedItemRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(item.url, href=item.url, is_external=True, size="1", class_name="break-all")),
        rx.table.cell(item.company),
        rx.table.cell(rx.text(item.error, size="1", color_scheme="red")),
    )


def _scroll_table(*children: rx.Component) -> rx.Component:
    return rx.box(rx.table.root(*children, variant="surface", size="1", width="100%"), overflow_x="auto", width="100%")


def _results() -> rx.Component:
    return rx.vstack(
        rx.cond(
            RunState.status == "completed",
            rx.hstack(
                rx.icon("circle_check", size=40, color=rx.color("green", 9)),
                rx.vstack(
                    rx.heading("Ingestion complete", size="6", id="result-heading"),
                    rx.text("Run #", RunState.run_id, " · started ", RunState.created, color_scheme="gray", size="2"),
                    spacing="1",
                ),
                align="center",
            ),
            rx.vstack(
                rx.hstack(
                    rx.icon("circle_x", size=40, color=rx.color("red", 9)),
                    rx.vstack(
                        rx.heading("Ingestion failed", size="6", id="result-heading"),
                        rx.text(
                            "Run #", RunState.run_id, " · started ", RunState.created, color_scheme="gray", size="2"
                        ),
                        spacing="1",
                    ),
                    align="center",
                ),
                rx.callout(
                    RunState.error_message, icon="triangle_alert", color_scheme="red", width="100%", id="run-error"
                ),
                width="100%",
            ),
        ),
        rx.flex(
            stat_card("Found", RunState.total, "indigo", "stat-found"),
            stat_card("Added", RunState.added, "green", "stat-added"),
            stat_card("Archived", RunState.archived, "amber", "stat-archived"),
            stat_card("Failed", RunState.failed, "red", "stat-failed"),
            stat_card("Duration", RunState.elapsed, "gray", "stat-duration"),
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        rx.flex(
            rx.link(
                rx.button(rx.icon("rotate_ccw", size=16), "Start new ingestion", size="3"),
                href="/companies",
                id="start-new",
            ),
            rx.link(
                rx.button(rx.icon("search", size=16), "Go to search", size="3", variant="soft"),
                href=RunState.search_url,
                id="go-to-search",
            ),
            rx.link(
                rx.button(rx.icon("history", size=16), "History", size="3", variant="soft", color_scheme="gray"),
                href="/history",
            ),
            spacing="3",
            wrap="wrap",
        ),
        rx.heading("Per company", size="4"),
        _scroll_table(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Company"),
                    rx.table.column_header_cell("Listed"),
                    rx.table.column_header_cell("Archived"),
                    rx.table.column_header_cell("Note"),
                )
            ),
            rx.table.body(rx.foreach(RunState.companies, _company_row)),
        ),
        rx.cond(
            RunState.failed_items.length() > 0,
            rx.vstack(
                rx.heading("Failed URLs", size="4"),
                _scroll_table(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("URL"),
                            rx.table.column_header_cell("Company"),
                            rx.table.column_header_cell("Reason"),
                        )
                    ),
                    rx.table.body(rx.foreach(RunState.failed_items, _failed_row)),
                ),
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
        id="stage-5",
    )


def _no_run() -> rx.Component:
    return rx.cond(
        RunState.loaded,
        rx.cond(
            RunState.not_found,
            empty_state(
                "search_x",
                "Run not found",
                "This run does not exist or belongs to someone else.",
                rx.link(rx.button("History"), href="/history"),
            ),
            empty_state(
                "inbox",
                "No ingestion yet",
                "Choose your companies, preview what they list and start your first run.",
                rx.link(rx.button("Go to companies"), href="/companies"),
            ),
        ),
        rx.center(rx.spinner(size="3"), padding="2rem"),
    )


@rx.page(route="/run", title="Ingestion · Job ingestion", on_load=RunState.load)
def run_page() -> rx.Component:
    return page_shell(
        "Ingestion",
        _poller(),
        rx.hstack(
            stepper(RunState.stage),
            rx.spacer(),
            rx.cond(RunState.status != "", status_badge(RunState.status)),
            wrap="wrap",
            width="100%",
        ),
        rx.match(
            RunState.stage,
            (3, _archiving()),
            (4, _progress()),
            (5, _results()),
            _no_run(),
        ),
    )
