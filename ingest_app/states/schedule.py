"""The schedule screen: when runs start on their own (preset or cron, timezone, pause), the next
run time in plain words, what the last due time did; "run now"."""

from __future__ import annotations

import reflex as rx

from ingest_app import routes
from ingest_app.core import pipeline, schedules
from ingest_app.core.db import session_scope
from ingest_app.states.auth import AuthState, signed_in
from ingest_app.states.formatting import format_when

KIND_CHOICES = ["hourly", "every_n_hours", "daily", "weekdays", "weekly", "cron"]
KIND_LABELS = {
    "hourly": "Every hour",
    "every_n_hours": "Every N hours",
    "daily": "Daily at…",
    "weekdays": "Weekdays at…",
    "weekly": "Weekly on…",
    "cron": "Cron expression",
}
WEEKDAY_CHOICES = list(schedules.WEEKDAYS)


class ScheduleState(AuthState):
    kind: str = "daily"
    time: str = "09:00"
    hours: str = "6"
    weekday: str = "monday"
    cron: str = "0 9 * * *"
    timezone: str = "UTC"
    enabled: bool = True
    configured: bool = False
    description: str = ""
    next_run: str = ""
    last_outcome: str = ""
    last_run_id: int = 0
    error: str = ""
    notice: str = ""
    loaded: bool = False

    def _show(self, view: schedules.ScheduleView) -> None:
        self.configured = view.configured
        self.description = view.description
        self.next_run = format_when(view.next_run_at)
        self.last_outcome = view.last_outcome or ""
        self.last_run_id = view.last_run_id or 0
        if not view.configured:
            return
        self.enabled, self.timezone, self.cron = view.enabled, view.timezone, view.cron
        preset = view.preset or {}
        self.kind = str(preset.get("kind") or "cron")
        self.time = str(preset.get("time") or self.time)
        self.hours = str(preset.get("hours") or self.hours)
        self.weekday = str(preset.get("weekday") or self.weekday)

    @rx.event
    @signed_in
    def load(self):
        user_id = self._auth_user_id
        self.error = self.notice = ""
        with session_scope() as session:
            self._show(schedules.get_schedule(session, user_id))
        self.loaded = True

    @rx.event
    def set_kind(self, value: str) -> None:
        self.kind = value if value in KIND_CHOICES else "daily"

    @rx.event
    def set_time(self, value: str) -> None:
        self.time = value[:5]

    @rx.event
    def set_hours(self, value: str) -> None:
        self.hours = value[:2]

    @rx.event
    def set_weekday(self, value: str) -> None:
        self.weekday = value if value in WEEKDAY_CHOICES else "monday"

    @rx.event
    def set_cron(self, value: str) -> None:
        self.cron = value[: schedules.MAX_CRON_LENGTH]

    @rx.event
    def set_timezone(self, value: str) -> None:
        self.timezone = value.strip()[:64]

    @rx.event
    def set_enabled(self, value: bool) -> None:
        self.enabled = bool(value)

    def _preset(self) -> dict:
        preset: dict = {"kind": self.kind}
        if self.kind == "every_n_hours":
            preset["hours"] = int(self.hours) if self.hours.isdigit() else 0
        if self.kind in ("daily", "weekdays", "weekly"):
            preset["time"] = self.time
        if self.kind == "weekly":
            preset["weekday"] = self.weekday
        return preset

    @rx.event
    @signed_in
    def save(self):
        user_id = self._auth_user_id
        self.error = self.notice = ""
        try:
            with session_scope() as session:
                view = schedules.put_schedule(
                    session,
                    user_id,
                    cron=self.cron if self.kind == "cron" else None,
                    preset=None if self.kind == "cron" else self._preset(),
                    tz_name=self.timezone or "UTC",
                    enabled=self.enabled,
                )
        except schedules.ScheduleError as exc:
            self.error = str(exc)
            return None
        self._show(view)
        self.notice = "Schedule saved" if view.enabled else "Schedule saved (paused)"
        return None

    @rx.event
    @signed_in
    def run_now(self):
        user_id = self._auth_user_id
        self.error = self.notice = ""
        try:
            with session_scope() as session:
                run = pipeline.start_run(session, user_id)
        except (pipeline.RunAlreadyActive, pipeline.NoCompanies) as exc:
            self.error = str(exc)
            return None
        pipeline.begin_stage3(run.run_id)  # the workers list, archive and crawl
        return rx.redirect(routes.run_page(run.run_id))
