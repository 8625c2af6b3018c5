"""Stage 5 of a run: outcome, colour-coded summary, actions, per-company, failed-URL and skipped-URL
tables (a page that is not a job posting is skipped, not failed)."""

import reflex as rx

from ingest_app import routes
from ingest_app.components.stat_card import stat_card
from ingest_app.states.rows import ChangeCountRow, FailedItemRow, RunCompanyRow, SkippedItemRow
from ingest_app.states.run import RunState


def _company_row(company: RunCompanyRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(company.name, weight="medium"), rx.text(company.source, size="1", color_scheme="gray")),
        rx.table.cell(company.listed),
        rx.table.cell(rx.text(company.archived, color_scheme="amber")),
        rx.table.cell(rx.text(company.note, size="1", color_scheme="red"), min_width="12em"),
    )


def _failed_row(item: FailedItemRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(item.url, href=item.url, is_external=True, size="1", class_name="break-all")),
        rx.table.cell(item.company),
        rx.table.cell(rx.text(item.error, size="1", color_scheme="red"), min_width="12em"),
    )


def _skipped_row(item: SkippedItemRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(item.url, href=item.url, is_external=True, size="1", class_name="break-all")),
        rx.table.cell(item.company),
        rx.table.cell(rx.text(item.label, size="1", color_scheme="gray"), min_width="12em"),
    )


def _change_link(change: ChangeCountRow) -> rx.Component:
    return rx.link(
        rx.badge(change.label, size="2", variant="soft", color_scheme="indigo", high_contrast=True),
        href=change.href,
        class_name="change-" + change.kind,
    )


def changes_summary() -> rx.Component:
    """ "+12 new · 3 closed · 1 reposted", each part linked to the jobs it counts."""
    return rx.flex(
        rx.text("What changed:", size="2", weight="medium"),
        rx.cond(
            RunState.change_counts.length() > 0,
            rx.flex(rx.foreach(RunState.change_counts, _change_link), spacing="2", wrap="wrap"),
            rx.text("no changes", size="2", color_scheme="gray"),
        ),
        rx.text(RunState.change_summary, display="none", id="change-summary-text"),
        spacing="2",
        align="center",
        wrap="wrap",
        id="change-summary",
    )


def _scroll_table(label: str, *children: rx.Component) -> rx.Component:
    """A table that scrolls sideways on narrow screens, in a region the keyboard can focus (and so
    scroll); Radix's own inner scroll area is switched off in styles.css (`.table-scroll`)."""
    return rx.box(
        rx.table.root(*children, variant="surface", size="1", width="100%"),
        overflow_x="auto",
        width="100%",
        tab_index=0,
        role="region",
        aria_label=label,
        class_name="table-scroll",
    )


def _run_line() -> rx.Component:
    return rx.text("Run #", RunState.run_id, " · started ", RunState.created, color_scheme="gray", size="2")


def _outcome_heading() -> rx.Component:
    """Complete, or failed with the run's error below."""
    return rx.cond(
        RunState.status == "completed",
        rx.hstack(
            rx.icon("circle_check", size=40, color=rx.color("green", 9)),
            rx.vstack(rx.heading("Ingestion complete", size="6", id="result-heading"), _run_line(), spacing="1"),
            align="center",
        ),
        rx.vstack(
            rx.hstack(
                rx.icon("circle_x", size=40, color=rx.color("red", 9)),
                rx.vstack(rx.heading("Ingestion failed", size="6", id="result-heading"), _run_line(), spacing="1"),
                align="center",
            ),
            rx.callout(
                RunState.error_message,
                icon="triangle_alert",
                color_scheme="red",
                high_contrast=True,
                width="100%",
                id="run-error",
            ),
            width="100%",
        ),
    )


def _stats() -> rx.Component:
    return rx.flex(
        stat_card("Found", RunState.total, "indigo", "stat-found"),
        stat_card("Added", RunState.added, "green", "stat-added"),
        stat_card("Archived", RunState.archived, "amber", "stat-archived"),
        stat_card("Failed", RunState.failed, "red", "stat-failed"),
        stat_card("Skipped", RunState.skipped, "gray", "stat-skipped"),
        stat_card("Duration", RunState.elapsed, "gray", "stat-duration"),
        spacing="3",
        wrap="wrap",
        width="100%",
    )


def _next_steps() -> rx.Component:
    """Where to go from the results: a new ingestion, the jobs it found, the run history."""
    return rx.flex(
        rx.link(
            rx.button(rx.icon("rotate_ccw", size=16), "Start new ingestion", size="3"),
            href=routes.COMPANIES,
            id="start-new",
        ),
        rx.link(
            rx.button(rx.icon("search", size=16), "Go to search", size="3", variant="soft", high_contrast=True),
            href=RunState.search_url,
            id="go-to-search",
        ),
        rx.link(
            rx.button(
                rx.icon("history", size=16),
                "History",
                size="3",
                variant="soft",
                color_scheme="gray",
                high_contrast=True,
            ),
            href=routes.HISTORY,
        ),
        spacing="3",
        wrap="wrap",
    )


def _table(label: str, columns: tuple[str, ...], items, row) -> rx.Component:
    """A scrolling table named `label` with one header row of `columns` and a `row` per item."""
    return _scroll_table(
        label,
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(column) for column in columns])),
        rx.table.body(rx.foreach(items, row)),
    )


_URL_COLUMNS = ("URL", "Company", "Reason")


def _failed_urls() -> rx.Component:
    return rx.cond(
        RunState.failed_items.length() > 0,
        rx.vstack(
            rx.heading("Failed URLs", size="4"),
            _table("Failed URLs", _URL_COLUMNS, RunState.failed_items, _failed_row),
            width="100%",
        ),
    )


def _skipped_urls() -> rx.Component:
    return rx.cond(
        RunState.skipped_items.length() > 0,
        rx.vstack(
            rx.heading("Skipped URLs", size="4"),
            rx.text(RunState.skipped, " skipped: not a job posting", size="2", color_scheme="gray"),
            _table("Skipped URLs", _URL_COLUMNS, RunState.skipped_items, _skipped_row),
            width="100%",
            id="skipped-items",
        ),
    )


def results_view() -> rx.Component:
    return rx.vstack(
        _outcome_heading(),
        changes_summary(),
        _stats(),
        _next_steps(),
        rx.heading("Per company", size="4"),
        _table("Per company", ("Company", "Listed", "Archived", "Note"), RunState.companies, _company_row),
        _failed_urls(),
        _skipped_urls(),
        spacing="4",
        width="100%",
        id="stage-5",
    )
