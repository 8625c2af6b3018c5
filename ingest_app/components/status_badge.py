"""A run status as a colour-coded badge."""

import reflex as rx


def status_badge(status: rx.Var[str] | str) -> rx.Component:
    return rx.match(
        status,
        (
            "completed",
            rx.badge(rx.icon("circle_check", size=12), "completed", color_scheme="green", high_contrast=True),
        ),
        ("failed", rx.badge(rx.icon("circle_x", size=12), "failed", color_scheme="red", high_contrast=True)),
        ("ingesting", rx.badge(rx.icon("loader", size=12), "ingesting", color_scheme="blue", high_contrast=True)),
        ("archiving", rx.badge(rx.icon("archive", size=12), "archiving", color_scheme="amber", high_contrast=True)),
        rx.badge(status, color_scheme="gray", high_contrast=True),
    )
