"""The five stages of an ingestion, with the current one highlighted."""

import reflex as rx

STAGES = [(1, "Companies"), (2, "Preview"), (3, "Archive"), (4, "Ingest"), (5, "Results")]


def _step(number: int, label: str, current: rx.Var[int] | int) -> rx.Component:
    is_current = current == number if isinstance(current, rx.Var) else rx.Var.create(current == number)
    is_done = current > number if isinstance(current, rx.Var) else rx.Var.create(current > number)
    return rx.hstack(
        rx.badge(
            rx.cond(is_done, rx.icon("check", size=12), str(number)),
            variant=rx.cond(is_current, "solid", "soft"),
            color_scheme=rx.cond(is_done, "green", rx.cond(is_current, "indigo", "gray")),
            radius="full",
        ),
        rx.text(
            label,
            size="2",
            weight=rx.cond(is_current, "bold", "regular"),
            color_scheme=rx.cond(is_current, "indigo", "gray"),
        ),
        spacing="1",
        align="center",
    )


def stepper(current: rx.Var[int] | int) -> rx.Component:
    return rx.flex(
        *[_step(number, label, current) for number, label in STAGES],
        spacing="3",
        wrap="wrap",
        align="center",
        class_name="stepper",
    )
