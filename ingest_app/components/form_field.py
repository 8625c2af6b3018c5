"""A labelled form control with its error message right below it.

The label names the control (`for` = the control's id), and the message under it describes the
control (`aria-describedby`), which is marked invalid while there is an error.
"""

import reflex as rx


def form_field(
    label: str | rx.Var,
    control: rx.Component,
    error: rx.Var[str],
    hint: str | rx.Var = "",
    *,
    control_id: str | None = None,
) -> rx.Component:
    """`control_id`: the element the label names, when it is not `control` itself (a select's trigger)."""
    target = control_id or control.id
    if not target:
        raise ValueError("form_field needs a control with an id (or control_id) to label")
    message_id = f"{target}-message"
    described = control if control_id is None else None
    if described is not None:
        described.custom_attrs.update(
            {"aria-describedby": message_id, "aria-invalid": rx.cond(error != "", "true", "false")}
        )
    return rx.vstack(
        rx.text(label, size="2", weight="medium", as_="label", custom_attrs={"htmlFor": target}),
        control,
        rx.box(
            rx.cond(
                error != "",
                rx.text(error, size="1", color_scheme="red", class_name="field-error"),
                rx.text(hint, size="1", color_scheme="gray") if hint is not None else rx.fragment(),
            ),
            id=message_id,
            aria_live="polite",
        ),
        spacing="1",
        width="100%",
    )
