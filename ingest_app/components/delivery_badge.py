"""A delivery outcome as a colour-coded badge."""

import reflex as rx


def delivery_badge(state: rx.Var[str]) -> rx.Component:
    return rx.match(
        state,
        ("sent", rx.badge("sent", color_scheme="green")),
        ("failed", rx.badge("failed", color_scheme="red")),
        ("pending", rx.badge("waiting", color_scheme="amber")),
        ("sending", rx.badge("sending", color_scheme="blue")),
        ("skipped", rx.badge("nothing to send", color_scheme="gray")),
        ("", rx.badge("never used", color_scheme="gray", variant="outline")),
        rx.badge(state, color_scheme="gray"),
    )
