"""Sign-in page (placeholder until the UI lands)."""

import reflex as rx


@rx.page(route="/", title="Sign in · Job ingestion")
def index() -> rx.Component:
    return rx.center(rx.heading("Sign in"), height="100vh")
