"""Stage 2: what the enabled companies list right now (dry run), then start the run.

Counts first (ok / failing / empty, job URLs listed); each group's companies on demand."""

import reflex as rx

from ingest_app import routes
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
                    rx.text(row.name, weight="bold", size="2", class_name="preview-name"),
                    rx.text(row.source, size="1", color_scheme="gray", class_name="break-all"),
                    spacing="0",
                ),
                rx.spacer(),
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
            rx.cond(row.count > 0, _url_list(row)),
            spacing="2",
            width="100%",
        ),
        size="1",
        width="100%",
    )


def _count(label: str, value, color: str, element_id: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="1", color_scheme="gray"),
            rx.text(value, size="5", weight="bold", color_scheme=color, high_contrast=True, id=element_id),
            spacing="0",
        ),
        size="1",
        min_width="110px",
    )


def _counts() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(
                PreviewState.total_urls,
                " job URLs across ",
                PreviewState.company_count,
                " companies",
                weight="medium",
                id="preview-total",
            ),
            rx.cond(
                PreviewState.pending_count > 0,
                rx.hstack(
                    rx.spinner(size="1"),
                    rx.text(
                        "Fetching… ",
                        PreviewState.done_count,
                        " of ",
                        PreviewState.company_count,
                        " done",
                        color_scheme="gray",
                        id="preview-progress",
                    ),
                    align="center",
                ),
            ),
            wrap="wrap",
            align="center",
            aria_live="polite",
        ),
        rx.flex(
            _count("Listing jobs", PreviewState.ok_count, "green", "count-ok"),
            _count("Failing", PreviewState.failing_count, "red", "count-failing"),
            _count("Listing none", PreviewState.empty_count, "amber", "count-empty"),
            _count("Job URLs", PreviewState.total_urls, "indigo", "count-urls"),
            spacing="3",
            wrap="wrap",
        ),
        spacing="3",
        width="100%",
    )


def _group(group: str, title: str, count, rows) -> rx.Component:
    """One collapsible group; its rows are rendered only while it is open."""
    is_open = PreviewState.open_groups.contains(group)
    return rx.cond(
        count > 0,
        rx.vstack(
            rx.button(
                rx.cond(is_open, rx.icon("chevron_down", size=16), rx.icon("chevron_right", size=16)),
                title,
                " (",
                count,
                ")",
                variant="ghost",
                high_contrast=True,
                on_click=PreviewState.toggle_group(group),
                aria_expanded=rx.cond(is_open, "true", "false"),
                id=f"group-{group}",
            ),
            rx.cond(
                is_open,
                rx.vstack(
                    rx.foreach(rows, _row),
                    rx.cond(
                        rows.length() < count,
                        rx.button(
                            "Show more",
                            size="1",
                            variant="soft",
                            high_contrast=True,
                            on_click=PreviewState.show_more(group),
                            id=f"group-{group}-more",
                        ),
                    ),
                    spacing="2",
                    width="100%",
                    id=f"group-{group}-rows",
                ),
            ),
            spacing="2",
            width="100%",
            align="start",
        ),
    )


def _actions() -> rx.Component:
    return rx.flex(
        rx.link(
            rx.button(
                rx.icon("arrow_left", size=16), "Companies", variant="soft", color_scheme="gray", high_contrast=True
            ),
            href=routes.COMPANIES,
        ),
        rx.spacer(),
        rx.button(
            rx.icon("play", size=16),
            "Start ingestion",
            on_click=PreviewState.start,
            disabled=PreviewState.company_count == 0,
            size="3",
            id="start-ingestion",
        ),
        spacing="3",
        wrap="wrap",
        align="center",
    )


@rx.page(route=routes.PREVIEW, title="Preview · Job ingestion", on_load=PreviewState.load)
def preview_page() -> rx.Component:
    return page_shell(
        "Preview",
        stepper(2),
        rx.text(
            "A dry run: the job URLs each enabled company lists right now. Nothing is saved until you start.",
            color_scheme="gray",
        ),
        rx.cond(
            PreviewState.loaded & (PreviewState.company_count == 0),
            empty_state(
                "building_2",
                "No enabled companies",
                "Add a company or enable one to preview what it lists.",
                rx.link(rx.button("Go to companies"), href=routes.COMPANIES),
            ),
            rx.vstack(
                _counts(),
                _group("failing", "Failing", PreviewState.failing_count, PreviewState.failing_rows),
                _group("empty", "Listing no jobs", PreviewState.empty_count, PreviewState.empty_rows),
                _group("ok", "Listing jobs", PreviewState.ok_count, PreviewState.ok_rows),
                spacing="4",
                width="100%",
            ),
        ),
        rx.cond(
            PreviewState.error != "",
            rx.callout(PreviewState.error, icon="triangle_alert", color_scheme="red", high_contrast=True),
        ),
        _actions(),
    )
