"""A labelled form control with its error message right below it."""

import reflex as rx


def form_field(label: str | rx.Var, control: rx.Component, error: rx.Var[str], hint: str | rx.Var = "") -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium", as_="label"),
        control,
        rx.cond(
            error != "",
            rx.text(error, size="1", color_scheme="red", class_name="field-error"),
            rx.text(hint, size="1", color_scheme="gray") if hint is not None else rx.fragment(),
        ),
        spacing="1",
        width="100%",
    )
