"""Sign in / register."""

import reflex as rx

from ingest_app import routes
from ingest_app.accounts.users import MIN_PASSWORD_LENGTH
from ingest_app.components.form_field import form_field
from ingest_app.states.sign_in import SignInState

PASSWORD_HINT = f"At least {MIN_PASSWORD_LENGTH} characters, mixing letters with digits or symbols"


def _form() -> rx.Component:
    registering = SignInState.mode == "register"
    return rx.form(
        rx.vstack(
            form_field(
                "Email",
                rx.input(name="email", type="email", placeholder="you@example.com", id="email", width="100%", size="3"),
                SignInState.email_error,
            ),
            form_field(
                "Password",
                rx.input(name="password", type="password", id="password", width="100%", size="3"),
                SignInState.password_error,
                hint=rx.cond(registering, PASSWORD_HINT, ""),
            ),
            rx.cond(
                SignInState.form_error != "",
                rx.callout(
                    SignInState.form_error,
                    icon="triangle_alert",
                    color_scheme="red",
                    high_contrast=True,
                    width="100%",
                    id="form-error",
                ),
            ),
            rx.button(
                rx.cond(registering, "Create account", "Sign in"),
                type="submit",
                width="100%",
                size="3",
                id="submit",
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=SignInState.submit,
        reset_on_submit=False,
        width="100%",
    )


@rx.page(route=routes.SIGN_IN, title="Sign in · Job ingestion", on_load=SignInState.redirect_if_signed_in)
def index() -> rx.Component:
    return rx.el.main(
        rx.center(
            rx.card(
                rx.vstack(
                    rx.hstack(
                        rx.icon("briefcase", size=28, color=rx.color("indigo", 9)),
                        rx.heading("Job ingestion", size="7"),
                        align="center",
                    ),
                    rx.text(
                        "Keep your job database in line with what your companies list today.",
                        color_scheme="gray",
                    ),
                    rx.segmented_control.root(
                        rx.segmented_control.item("Sign in", value="sign_in"),
                        rx.segmented_control.item("Register", value="register"),
                        value=SignInState.mode,
                        on_change=SignInState.set_mode,
                        width="100%",
                        id="mode",
                    ),
                    _form(),
                    spacing="4",
                    width="100%",
                ),
                size="4",
                width="100%",
                max_width="420px",
            ),
            min_height="100vh",
            padding="1rem",
            background=rx.color("gray", 2),
        )
    )
