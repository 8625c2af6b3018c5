"""A company's health as a colour-coded badge (high contrast: axe's contrast rule holds)."""

import reflex as rx


def health_badge(status: rx.Var[str]) -> rx.Component:
    return rx.match(
        status,
        ("healthy", rx.badge(rx.icon("circle_check", size=12), "healthy", color_scheme="green", high_contrast=True)),
        ("warning", rx.badge(rx.icon("triangle_alert", size=12), "warning", color_scheme="amber", high_contrast=True)),
        ("failing", rx.badge(rx.icon("circle_x", size=12), "failing", color_scheme="red", high_contrast=True)),
        rx.badge("unknown", color_scheme="gray", high_contrast=True),
    )
