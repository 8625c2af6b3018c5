"""Stages 3 and 4 of a run: the archiving notice and the live progress (with reset)."""

import reflex as rx

from ingest_app.components.reset_dialog import reset_dialog
from ingest_app.components.stat_card import stat_card
from ingest_app.states.run import RunState


def archiving_view() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.spinner(size="3"), rx.heading("Archiving jobs no longer listed...", size="5"), align="center"),
            rx.text(
                "Jobs of this run's companies that their source no longer lists are being archived. "
                "Crawling starts right after.",
                color_scheme="gray",
            ),
            rx.text("Elapsed: ", RunState.elapsed, size="2", color_scheme="gray", id="archiving-elapsed"),
            reset_dialog(RunState.confirm_reset, RunState.reset_error),
            spacing="3",
        ),
        width="100%",
        id="stage-3",
    )


def progress_view() -> rx.Component:
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
                rx.progress(
                    value=RunState.percent,
                    max=100,
                    size="3",
                    width="100%",
                    id="progress-bar",
                    aria_label="Job URLs processed",
                ),
                rx.text(
                    RunState.processed,
                    " of ",
                    RunState.total,
                    " job URLs processed",
                    id="processed-of-total",
                    aria_live="polite",
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
            id="stage-4",
        ),
        rx.flex(
            stat_card("Processed", RunState.processed, "indigo", "stat-processed", live=True),
            stat_card("Added", RunState.added, "green", "stat-added", live=True),
            stat_card("Failed", RunState.failed, "red", "stat-failed", live=True),
            stat_card("Skipped", RunState.skipped, "gray", "stat-skipped", live=True),
            stat_card("Archived", RunState.archived, "amber", "stat-archived", live=True),
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
