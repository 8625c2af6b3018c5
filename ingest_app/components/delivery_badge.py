"""A delivery outcome as a colour-coded badge."""

import reflex as rx


def delivery_badge(state: rx.Var[str]) -> rx.Component:
    return rx.match(
        state,
        ("sent", rx.badge("sent", color_scheme="green", high_contrast=True)),
        ("failed", rx.badge("failed", color_scheme="red", high_contrast=True)),
        ("pending", rx.badge("waiting", color_scheme="amber", high_contrast=True)),
        ("sending", rx.badge("sending", color_scheme="blue", high_contrast=True)),
        ("skipped", rx.badge("nothing to send", color_scheme="gray", high_contrast=True)),
        ("", rx.badge("never used", color_scheme="gray", variant="outline", high_contrast=True)),
        rx.badge(state, color_scheme="gray", high_contrast=True),
    )
