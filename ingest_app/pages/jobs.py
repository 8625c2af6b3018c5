"""The jobs page: the user's jobs, searchable; descriptions are plain text only."""

import reflex as rx

from ingest_app import routes
from ingest_app.components.empty_state import empty_state
from ingest_app.components.layout import page_shell
from ingest_app.states.jobs import JobsState
from ingest_app.states.rows import JobRow


def _company_chip(name: rx.Var[str]) -> rx.Component:
    selected = JobsState.selected_companies.contains(name)
    # A toggle button (reachable with Tab, pressed state announced), drawn as a chip.
    return rx.button(
        name,
        variant=rx.cond(selected, "solid", "outline"),
        color_scheme=rx.cond(selected, "indigo", "gray"),
        size="1",
        radius="full",
        type="button",
        on_click=JobsState.toggle_company(name),
        aria_pressed=rx.cond(selected, "true", "false"),
        class_name="company-chip",
    )


def _change_chip(kind: rx.Var[str]) -> rx.Component:
    selected = JobsState.change_kind == kind
    return rx.badge(
        kind,
        variant=rx.cond(selected, "solid", "outline"),
        color_scheme=rx.cond(selected, "indigo", "gray"),
        size="2",
        cursor="pointer",
        on_click=JobsState.set_change_kind(kind),
        class_name="change-chip",
    )


def _change_filter() -> rx.Component:
    """Shown for `?run=N`: the jobs that run changed, by kind of change."""
    return rx.flex(
        rx.text("Changed in run #", JobsState.change_run, ":", size="2", color_scheme="gray"),
        rx.badge(
            "any",
            variant=rx.cond(JobsState.change_kind == "", "solid", "outline"),
            color_scheme=rx.cond(JobsState.change_kind == "", "indigo", "gray"),
            size="2",
            cursor="pointer",
            on_click=JobsState.set_change_kind(""),
        ),
        rx.foreach(JobsState.change_kinds, _change_chip),
        rx.button("All jobs", size="1", variant="ghost", on_click=JobsState.clear_change_filter),
        spacing="2",
        wrap="wrap",
        align="center",
        id="change-filter",
    )


def _filters() -> rx.Component:
    return rx.vstack(
        rx.cond(JobsState.change_run > 0, _change_filter()),
        rx.flex(
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                value=JobsState.query,
                on_change=JobsState.set_query,
                placeholder="Filter jobs by title, location, text…",
                id="job-filter",
                aria_label="Filter jobs",
                flex="1",
                min_width="220px",
                size="3",
            ),
            rx.hstack(
                rx.switch(checked=JobsState.show_archived, on_change=JobsState.set_show_archived, id="show-archived"),
                rx.text("Show archived", size="2", as_="label", custom_attrs={"htmlFor": "show-archived"}),
                align="center",
            ),
            spacing="3",
            wrap="wrap",
            align="center",
            width="100%",
        ),
        rx.cond(
            JobsState.company_names.length() > 0,
            rx.flex(
                rx.text("Companies:", size="2", color_scheme="gray"),
                rx.foreach(JobsState.company_names, _company_chip),
                rx.cond(
                    JobsState.selected_companies.length() > 0,
                    rx.button(
                        "All companies",
                        size="1",
                        variant="ghost",
                        high_contrast=True,
                        on_click=JobsState.clear_companies,
                    ),
                ),
                spacing="2",
                wrap="wrap",
                align="center",
            ),
        ),
        spacing="3",
        width="100%",
    )


def _job_card(job: JobRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.link(job.title, href=job.url, is_external=True, weight="bold", size="3", class_name="job-title"),
                rx.cond(job.status == "archived", rx.badge("archived", color_scheme="amber", high_contrast=True)),
                rx.cond(
                    job.reopened != "",
                    rx.badge(job.reopened, color_scheme="indigo", variant="soft", high_contrast=True),
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.flex(
                rx.text(job.company, size="2", weight="medium", class_name="job-company"),
                rx.cond(job.location != "", rx.text("· ", job.location, size="2", color_scheme="gray")),
                rx.cond(job.department != "", rx.text("· ", job.department, size="2", color_scheme="gray")),
                rx.cond(job.salary != "", rx.text("· ", job.salary, size="2", color_scheme="gray")),
                rx.cond(job.posted != "", rx.text("· posted ", job.posted, size="2", color_scheme="gray")),
                rx.cond(job.open_for != "", rx.text("· ", job.open_for, size="2", color_scheme="gray")),
                spacing="1",
                wrap="wrap",
            ),
            # Plain text: React escapes it; crawled HTML is never rendered.
            rx.cond(
                job.description != "",
                rx.text(job.description, size="2", color_scheme="gray", class_name="job-description"),
            ),
            spacing="2",
        ),
        width="100%",
    )


def _pagination() -> rx.Component:
    return rx.hstack(
        rx.button(
            "Previous",
            variant="soft",
            high_contrast=True,
            size="1",
            disabled=JobsState.page <= 1,
            on_click=JobsState.go_to_page(JobsState.page - 1),
        ),
        rx.text("Page ", JobsState.page, " of ", JobsState.pages, size="2"),
        rx.button(
            "Next",
            variant="soft",
            high_contrast=True,
            size="1",
            disabled=JobsState.page >= JobsState.pages,
            on_click=JobsState.go_to_page(JobsState.page + 1),
        ),
        align="center",
        justify="center",
        width="100%",
    )


@rx.page(route=routes.JOBS, title="Jobs · Job ingestion", on_load=JobsState.load)
def jobs_page() -> rx.Component:
    return page_shell(
        "Jobs",
        _filters(),
        rx.text(
            JobsState.total,
            rx.cond(JobsState.total == 1, " job", " jobs"),
            size="2",
            color_scheme="gray",
            id="jobs-total",
            aria_live="polite",
        ),
        rx.cond(
            JobsState.loaded & (JobsState.total == 0),
            empty_state(
                "briefcase",
                "No jobs match",
                "Change the filters, or run an ingestion to bring in your companies' jobs.",
                rx.link(rx.button("Go to companies"), href=routes.COMPANIES),
            ),
            rx.vstack(rx.foreach(JobsState.jobs, _job_card), spacing="3", width="100%"),
        ),
        rx.cond(JobsState.pages > 1, _pagination()),
    )
