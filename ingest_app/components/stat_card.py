"""A summary card: a label over a big, optionally colour-coded number."""

import reflex as rx


def stat_card(
    label: str, value: rx.Var | str | int, color: str = "gray", test_id: str = "", *, live: bool = False
) -> rx.Component:
    """`live`: screen readers announce changes of the number (politely, between other speech)."""
    live_attrs = {"aria-live": "polite", "aria-atomic": "true"} if live else {}
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray", weight="medium"),
            rx.text(value, size="7", weight="bold", color_scheme=color, id=test_id or None, custom_attrs=live_attrs),
            spacing="1",
        ),
        min_width="120px",
        flex="1",
    )
