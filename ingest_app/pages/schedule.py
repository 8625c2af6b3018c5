"""The schedule screen: runs that start on their own."""

import reflex as rx

from ingest_app import routes
from ingest_app.components.form_field import form_field
from ingest_app.components.layout import page_shell
from ingest_app.states.schedule import KIND_CHOICES, KIND_LABELS, WEEKDAY_CHOICES, ScheduleState


def _when() -> rx.Component:
    return rx.flex(
        form_field(
            "Repeat",
            rx.select.root(
                rx.select.trigger(id="schedule-kind"),
                rx.select.content(*[rx.select.item(KIND_LABELS[k], value=k) for k in KIND_CHOICES]),
                value=ScheduleState.kind,
                on_change=ScheduleState.set_kind,
            ),
            rx.Var.create(""),
            control_id="schedule-kind",
        ),
        rx.cond(
            ScheduleState.kind == "every_n_hours",
            form_field(
                "Every (hours)",
                rx.input(
                    value=ScheduleState.hours, on_change=ScheduleState.set_hours, id="schedule-hours", width="6em"
                ),
                rx.Var.create(""),
            ),
        ),
        rx.cond(
            ScheduleState.kind == "weekly",
            form_field(
                "On",
                rx.select(
                    WEEKDAY_CHOICES,
                    value=ScheduleState.weekday,
                    on_change=ScheduleState.set_weekday,
                    id="schedule-weekday",
                ),
                rx.Var.create(""),
                control_id="schedule-weekday",
            ),
        ),
        rx.cond(
            (ScheduleState.kind == "daily") | (ScheduleState.kind == "weekdays") | (ScheduleState.kind == "weekly"),
            form_field(
                "At (HH:MM)",
                rx.input(value=ScheduleState.time, on_change=ScheduleState.set_time, id="schedule-time", width="7em"),
                rx.Var.create(""),
            ),
        ),
        rx.cond(
            ScheduleState.kind == "cron",
            form_field(
                "Cron (minute hour day month weekday)",
                rx.input(value=ScheduleState.cron, on_change=ScheduleState.set_cron, id="schedule-cron"),
                rx.Var.create(""),
            ),
        ),
        form_field(
            "Timezone",
            rx.input(
                value=ScheduleState.timezone,
                on_change=ScheduleState.set_timezone,
                placeholder="Europe/Berlin",
                id="schedule-timezone",
            ),
            rx.Var.create(""),
            hint="An IANA name, e.g. Europe/Berlin or America/New_York",
        ),
        spacing="4",
        wrap="wrap",
        align="start",
        width="100%",
    )


def _status() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.cond(
                ScheduleState.configured,
                rx.vstack(
                    rx.text(ScheduleState.description, " (", ScheduleState.timezone, ")", weight="medium"),
                    rx.cond(
                        ScheduleState.enabled,
                        rx.text("Next run: ", rx.text.strong(ScheduleState.next_run), id="schedule-next-run"),
                        rx.badge("paused", color_scheme="amber", high_contrast=True, id="schedule-paused"),
                    ),
                    rx.cond(
                        ScheduleState.last_outcome != "",
                        rx.text("Last time: ", ScheduleState.last_outcome, size="2", color_scheme="gray"),
                    ),
                    spacing="1",
                ),
                rx.text("No schedule yet: runs start only when you start them.", color_scheme="gray"),
            ),
            spacing="2",
        ),
        width="100%",
    )


@rx.page(route=routes.SCHEDULE, title="Schedule · Job ingestion", on_load=ScheduleState.load)
def schedule_page() -> rx.Component:
    return page_shell(
        "Schedule",
        rx.text(
            "Runs start on their own at these times, even with this page closed. A run that is still going "
            "when the next one is due is not doubled: that time is skipped.",
            color_scheme="gray",
        ),
        _status(),
        rx.card(
            rx.vstack(
                _when(),
                rx.hstack(
                    rx.switch(
                        checked=ScheduleState.enabled, on_change=ScheduleState.set_enabled, id="schedule-enabled"
                    ),
                    rx.text("Enabled", size="2", as_="label", custom_attrs={"htmlFor": "schedule-enabled"}),
                    align="center",
                ),
                rx.cond(
                    ScheduleState.error != "",
                    rx.callout(ScheduleState.error, color_scheme="red", high_contrast=True, id="schedule-error"),
                ),
                rx.cond(
                    ScheduleState.notice != "",
                    rx.callout(ScheduleState.notice, color_scheme="green", high_contrast=True, id="schedule-notice"),
                ),
                rx.hstack(
                    rx.button("Save schedule", on_click=ScheduleState.save, id="save-schedule"),
                    rx.button("Run now", on_click=ScheduleState.run_now, variant="soft", id="run-now"),
                    rx.link("Notifications →", href=routes.NOTIFICATIONS, size="2"),
                    spacing="3",
                    align="center",
                    wrap="wrap",
                ),
                spacing="4",
                width="100%",
            ),
            width="100%",
        ),
    )
