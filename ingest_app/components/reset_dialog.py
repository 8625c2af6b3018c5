"""The confirmation dialog in front of "reset run"."""

import reflex as rx
from reflex.event import EventType

RESET_EXPLANATION = (
    'Reset stops this run for good: it is marked failed with the reason "Reset by user", the worker '
    "skips the job URLs still waiting in the queue, and the counters stop where they are. Jobs already "
    "added or archived stay as they are. You go back to stage 1 and can start a new run right away."
)


def reset_dialog(on_confirm: EventType, error: rx.Var[str]) -> rx.Component:
    return rx.vstack(
        rx.alert_dialog.root(
            rx.alert_dialog.trigger(
                rx.button(
                    rx.icon("octagon_x", size=16),
                    "Reset run",
                    color_scheme="red",
                    variant="soft",
                    high_contrast=True,
                    id="reset-run",
                ),
            ),
            rx.alert_dialog.content(
                rx.alert_dialog.title("Reset this ingestion run?"),
                rx.alert_dialog.description(RESET_EXPLANATION),
                rx.flex(
                    rx.alert_dialog.cancel(
                        rx.button("Keep running", variant="soft", color_scheme="gray", high_contrast=True)
                    ),
                    rx.alert_dialog.action(
                        rx.button(
                            "Reset run", color_scheme="red", high_contrast=True, on_click=on_confirm, id="confirm-reset"
                        ),
                    ),
                    spacing="3",
                    justify="end",
                    margin_top="1rem",
                ),
                max_width="480px",
            ),
        ),
        rx.cond(error != "", rx.text(error, color_scheme="red", size="2")),
        spacing="2",
    )
