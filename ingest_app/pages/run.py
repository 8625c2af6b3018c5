"""Stages 3-5 of a run: archiving, live progress, results."""

import reflex as rx

from ingest_app import routes
from ingest_app.components.empty_state import empty_state
from ingest_app.components.layout import page_shell
from ingest_app.components.run_progress import archiving_view, progress_view
from ingest_app.components.run_results import results_view
from ingest_app.components.status_badge import status_badge
from ingest_app.components.stepper import stepper
from ingest_app.states.run import POLL_INTERVAL_MS, RunState


def _poller() -> rx.Component:
    """A hidden timer that fires RunState.tick while the run is active.

    It keeps no mount/unmount handlers on purpose: React (StrictMode in `reflex run`, and any
    remount) may unmount and mount it again at will, and a handler that turned polling off on
    unmount stopped the progress for good. Leaving the page unmounts the timer, which is all it
    takes to stop the ticks; `RunState.load` decides again on every visit.
    """
    return rx.box(
        rx.cond(
            RunState.polling,
            rx.moment(interval=POLL_INTERVAL_MS, on_change=RunState.tick, id="poller"),
        ),
        display="none",
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
                rx.link(rx.button("History"), href=routes.HISTORY),
            ),
            empty_state(
                "inbox",
                "No ingestion yet",
                "Choose your companies, preview what they list and start your first run.",
                rx.link(rx.button("Go to companies"), href=routes.COMPANIES),
            ),
        ),
        rx.center(rx.spinner(size="3"), padding="2rem"),
    )


@rx.page(route=routes.RUN, title="Ingestion · Job ingestion", on_load=RunState.load)
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
            (3, archiving_view()),
            (4, progress_view()),
            (5, results_view()),
            _no_run(),
        ),
    )
