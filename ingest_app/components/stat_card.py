"""A summary card: a label over a big, optionally colour-coded number."""

import reflex as rx


def stat_card(label: str, value: rx.Var | str | int, color: str = "gray", test_id: str = "") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray", weight="medium"),
            rx.text(value, size="7", weight="bold", color_scheme=color, id=test_id or None),
            spacing="1",
        ),
        min_width="120px",
        flex="1",
    )
