"""What a page shows when there is nothing to list yet."""

import reflex as rx


def empty_state(icon: str, title: str, text: str, *actions: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon(icon, size=32, color=rx.color("gray", 9)),
            rx.heading(title, size="4"),
            rx.text(text, color_scheme="gray", text_align="center"),
            rx.hstack(*actions, spacing="3", wrap="wrap", justify="center"),
            align="center",
            spacing="3",
            padding_y="2rem",
        ),
        width="100%",
    )
