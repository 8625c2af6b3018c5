"""Stage 2: what each enabled company lists right now (dry run), then start the run."""

import reflex as rx

from ingest_app.components.empty_state import empty_state
from ingest_app.components.layout import page_shell
from ingest_app.components.stepper import stepper
from ingest_app.states.preview import PreviewState
from ingest_app.states.rows import PreviewRow


def _url_list(row: PreviewRow) -> rx.Component:
    return rx.el.details(
        rx.el.summary(rx.text("Show the ", row.count, " job URLs", as_="span", size="2"), cursor="pointer"),
        rx.box(
            rx.foreach(
                row.urls,
                lambda url: rx.link(url, href=url, is_external=True, size="1", display="block", class_name="break-all"),
            ),
            max_height="240px",
            overflow_y="auto",
            padding_top="0.5rem",
        ),
    )


def _row(row: PreviewRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.vstack(
                    rx.text(row.name, weight="bold", class_name="preview-name"),
                    rx.text(row.source, size="1", color_scheme="gray", class_name="break-all"),
                    spacing="1",
                ),
                rx.spacer(),
                rx.cond(
                    row.done,
                    rx.cond(
                        row.error != "",
                        rx.badge("error", color_scheme="red", high_contrast=True, size="2"),
                        rx.badge(
                            row.count,
                            " URLs",
                            color_scheme="indigo",
                            high_contrast=True,
                            size="2",
                            class_name="preview-count",
                        ),
                    ),
                    rx.hstack(rx.spinner(size="2"), rx.text("Fetching…", size="2", color_scheme="gray")),
                ),
                spacing="3",
                align="center",
                width="100%",
            ),
            rx.cond(
                row.error != "",
                rx.callout(
                    row.error, icon="triangle_alert", color_scheme="red", high_contrast=True, size="1", width="100%"
                ),
            ),
            rx.cond(row.done & (row.count > 0), _url_list(row)),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _actions() -> rx.Component:
    return rx.flex(
        rx.link(
            rx.button(
                rx.icon("arrow_left", size=16), "Companies", variant="soft", color_scheme="gray", high_contrast=True
            ),
            href="/companies",
        ),
        rx.spacer(),
        rx.button(
            rx.icon("play", size=16),
            "Start ingestion",
            on_click=PreviewState.start,
            disabled=PreviewState.rows.length() == 0,
            size="3",
            id="start-ingestion",
        ),
        spacing="3",
        wrap="wrap",
        align="center",
    )


@rx.page(route="/preview", title="Preview · Job ingestion", on_load=PreviewState.load)
def preview_page() -> rx.Component:
    return page_shell(
        "Preview",
        stepper(2),
        rx.text(
            "A dry run: the job URLs each enabled company lists right now. Nothing is saved until you start.",
            color_scheme="gray",
        ),
        rx.cond(
            PreviewState.loaded & (PreviewState.rows.length() == 0),
            empty_state(
                "building_2",
                "No enabled companies",
                "Add a company or enable one to preview what it lists.",
                rx.link(rx.button("Go to companies"), href="/companies"),
            ),
            rx.vstack(
                rx.hstack(
                    rx.text(
                        PreviewState.total_urls,
                        " job URLs across ",
                        PreviewState.rows.length(),
                        " companies",
                        weight="medium",
                        id="preview-total",
                    ),
                    rx.cond(PreviewState.pending_count > 0, rx.text("(still fetching)", color_scheme="gray")),
                    wrap="wrap",
                ),
                rx.foreach(PreviewState.rows, _row),
                spacing="3",
                width="100%",
            ),
        ),
        rx.cond(
            PreviewState.error != "",
            rx.callout(PreviewState.error, icon="triangle_alert", color_scheme="red", high_contrast=True),
        ),
        _actions(),
    )
