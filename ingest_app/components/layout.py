"""The page shell of signed-in pages: navigation bar (user, sign out) and a centred column."""

import reflex as rx

from ingest_app import routes
from ingest_app.states.auth import AuthState

NAV_LINKS = [
    ("Companies", routes.COMPANIES),
    ("Ingestion", routes.RUN),
    ("History", routes.HISTORY),
    ("Jobs", routes.JOBS),
]
NAV_LINKS += [("Schedule", routes.SCHEDULE), ("Notifications", routes.NOTIFICATIONS)]


def navbar() -> rx.Component:
    return rx.el.header(
        rx.flex(
            rx.link(
                rx.hstack(
                    rx.icon("briefcase", size=20), rx.text("Job ingestion", weight="bold", size="4"), align="center"
                ),
                href=routes.COMPANIES,
                underline="none",
                color_scheme="gray",
                high_contrast=True,
            ),
            rx.el.nav(
                rx.flex(
                    *[rx.link(label, href=href, size="2", weight="medium") for label, href in NAV_LINKS],
                    spacing="4",
                    wrap="wrap",
                    align="center",
                ),
                aria_label="Main",
            ),
            rx.spacer(),
            rx.hstack(
                rx.icon("circle_user", size=16, color=rx.color("gray", 10)),
                rx.text(AuthState.user_email, size="2", color_scheme="gray", id="nav-user", trim="both"),
                rx.button(
                    "Sign out", on_click=AuthState.sign_out, size="1", variant="soft", high_contrast=True, id="sign-out"
                ),
                align="center",
                spacing="2",
            ),
            spacing="3",
            wrap="wrap",
            align="center",
            max_width="1100px",
            margin_x="auto",
        ),
        padding_x="1rem",
        padding_y="0.75rem",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 1),
        position=rx.breakpoints(initial="static", md="sticky"),
        top="0",
        z_index="10",
        width="100%",
    )


def page_shell(title: str, *children: rx.Component, subtitle: str = "") -> rx.Component:
    return rx.box(
        navbar(),
        rx.el.main(
            rx.vstack(
                rx.heading(title, size="6"),
                rx.text(subtitle, color_scheme="gray") if subtitle else rx.fragment(),
                *children,
                spacing="4",
                width="100%",
                align="stretch",
            ),
            max_width="1100px",
            margin_x="auto",
            padding_x="1rem",
            padding_y="1.5rem",
        ),
        min_height="100vh",
        background=rx.color("gray", 2),
    )
