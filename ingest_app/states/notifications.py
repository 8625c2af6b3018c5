"""The notifications screen: the digest rule, channels (add, send test, delete) with the outcome
of their latest delivery, recent deliveries, and the secret feed URL. Nothing here sends: the
worker does (a test shows up within a minute)."""

from __future__ import annotations

import reflex as rx

from ingest_app.core import feeds
from ingest_app.core.db import session_scope
from ingest_app.core.notify import ChannelNotFound, NotifyError
from ingest_app.core.notify import channels as notify
from ingest_app.core.schedules import ScheduleError
from ingest_app.states.auth import AuthState, signed_in
from ingest_app.states.formatting import format_when
from ingest_app.states.rows import ChannelRow, DeliveryRow

REFRESH_MS = 5000
HOURS = [f"{h:02d}" for h in range(24)]


def _terms(text: str) -> list[str]:
    return [part.strip() for part in text[:5000].split(",") if part.strip()]


def _what(delivery: dict) -> str:
    kind = delivery["kind"]
    if kind == "run":
        return f"run #{delivery['run_id']}"
    if kind == "daily":
        return f"daily digest {delivery['digest_key'].split(':', 1)[1]}"
    return "test message"


def _detail(delivery: dict) -> str:
    """The reason of the latest attempt (with how many there were), or how many jobs went out."""
    tries = len(delivery.get("attempt_log") or [])
    if delivery["last_error"]:
        return delivery["last_error"] + (f" (after {tries} tries)" if tries > 1 else "")
    if delivery["state"] == "sent" and delivery["job_count"]:
        return f"{delivery['job_count']} jobs" + (f", after {tries} tries" if tries > 1 else "")
    return ""


class NotificationsState(AuthState):
    # rule
    rule_enabled: bool = True
    mode: str = "after_run"
    daily_hour: str = "08"
    rule_timezone: str = "UTC"
    include_reopened: bool = False
    include_changed: bool = False
    remote_only: bool = False
    keywords: str = ""
    locations: str = ""
    companies: str = ""
    rule_error: str = ""
    rule_notice: str = ""
    # channels
    channels: list[ChannelRow] = []
    deliveries: list[DeliveryRow] = []
    new_name: str = ""
    new_kind: str = "apprise"
    new_url: str = ""
    new_secret: str = ""
    channel_error: str = ""
    channel_notice: str = ""
    waiting: bool = False
    # feed
    feed_active: bool = False
    feed_url: str = ""
    loaded: bool = False

    def _refresh(self, user_id: int) -> None:
        with session_scope() as session:
            self.channels = [
                ChannelRow(
                    id=c.id,
                    name=c.name,
                    kind=c.kind,
                    masked_url=c.masked_url,
                    state=c.last_state or "",
                    error=c.last_error or "",
                    when=format_when(c.last_attempt_at),
                )
                for c in notify.list_channels(session, user_id)
            ]
            recent = notify.list_deliveries(session, user_id, limit=10)
            self.feed_active = feeds.feed_status(session, user_id).active
        self.deliveries = [
            DeliveryRow(
                id=d["id"],
                channel=d["channel_name"],
                what=_what(d),
                state=d["state"],
                detail=_detail(d),
                when=format_when(d["sent_at"] or d["created_at"]),
            )
            for d in recent
        ]
        self.waiting = any(d.state in ("pending", "sending") for d in self.deliveries)

    @rx.event
    @signed_in
    def load(self):
        user_id = self._auth_user_id
        self.rule_error = self.rule_notice = self.channel_error = self.channel_notice = ""
        self.feed_url = ""
        with session_scope() as session:
            rule = notify.get_rule(session, user_id)
        self.rule_enabled, self.mode, self.daily_hour = rule.enabled, rule.mode, f"{rule.daily_hour:02d}"
        self.rule_timezone, self.remote_only = rule.timezone, rule.remote_only
        self.include_reopened, self.include_changed = rule.include_reopened, rule.include_changed
        self.keywords, self.locations = ", ".join(rule.title_keywords), ", ".join(rule.locations)
        self.companies = ", ".join(rule.companies)
        self._refresh(user_id)
        self.loaded = True

    @rx.event
    async def tick(self, _now: str = ""):
        """While a delivery is pending, the list refreshes by itself."""
        if not self.waiting:
            return None
        return await self._tick()

    @signed_in
    def _tick(self) -> None:
        self._refresh(self._auth_user_id)

    # --- rule --------------------------------------------------------------------------------

    @rx.event
    def set_mode(self, value: str) -> None:
        self.mode = value if value in ("after_run", "daily") else "after_run"

    @rx.event
    def set_daily_hour(self, value: str) -> None:
        self.daily_hour = value if value in HOURS else "08"

    @rx.event
    def set_rule_timezone(self, value: str) -> None:
        self.rule_timezone = value.strip()[:64]

    @rx.event
    def set_rule_enabled(self, value: bool) -> None:
        self.rule_enabled = bool(value)

    @rx.event
    def set_include_reopened(self, value: bool) -> None:
        self.include_reopened = bool(value)

    @rx.event
    def set_include_changed(self, value: bool) -> None:
        self.include_changed = bool(value)

    @rx.event
    def set_remote_only(self, value: bool) -> None:
        self.remote_only = bool(value)

    @rx.event
    def set_keywords(self, value: str) -> None:
        self.keywords = value[:5000]

    @rx.event
    def set_locations(self, value: str) -> None:
        self.locations = value[:5000]

    @rx.event
    def set_companies(self, value: str) -> None:
        self.companies = value[:5000]

    @rx.event
    @signed_in
    def save_rule(self):
        user_id = self._auth_user_id
        self.rule_error = self.rule_notice = ""
        try:
            with session_scope() as session:
                notify.put_rule(
                    session,
                    user_id,
                    enabled=self.rule_enabled,
                    mode=self.mode,
                    daily_hour=int(self.daily_hour),
                    timezone=self.rule_timezone or "UTC",
                    include_reopened=self.include_reopened,
                    include_changed=self.include_changed,
                    title_keywords=_terms(self.keywords),
                    locations=_terms(self.locations),
                    companies=_terms(self.companies),
                    remote_only=self.remote_only,
                )
        except (NotifyError, ScheduleError) as exc:
            self.rule_error = str(exc)
            return None
        self.rule_notice = "Digest settings saved"
        return None

    # --- channels ----------------------------------------------------------------------------

    @rx.event
    def set_new_name(self, value: str) -> None:
        self.new_name = value[:100]

    @rx.event
    def set_new_kind(self, value: str) -> None:
        self.new_kind = value if value in ("apprise", "webhook") else "apprise"

    @rx.event
    def set_new_url(self, value: str) -> None:
        self.new_url = value[:2000]

    @rx.event
    def set_new_secret(self, value: str) -> None:
        self.new_secret = value[:200]

    @rx.event
    @signed_in
    def add_channel(self):
        user_id = self._auth_user_id
        self.channel_error = self.channel_notice = ""
        try:
            with session_scope() as session:
                notify.add_channel(
                    session,
                    user_id,
                    name=self.new_name,
                    kind=self.new_kind,
                    url=self.new_url,
                    secret=self.new_secret or None,
                )
        except NotifyError as exc:
            self.channel_error = str(exc)
            return None
        self.new_name = self.new_url = self.new_secret = ""
        self.channel_notice = "Channel added. Send a test to check it."
        self._refresh(user_id)
        return None

    @rx.event
    @signed_in
    def send_test(self, channel_id: int):
        user_id = self._auth_user_id
        self.channel_error = self.channel_notice = ""
        try:
            with session_scope() as session:
                notify.request_test(session, user_id, int(channel_id))
        except ChannelNotFound as exc:
            self.channel_error = str(exc)
            return None
        self.channel_notice = "Test queued: the worker sends it within a minute; its outcome shows below."
        self._refresh(user_id)
        return None

    @rx.event
    @signed_in
    def delete_channel(self, channel_id: int):
        user_id = self._auth_user_id
        self.channel_error = self.channel_notice = ""
        try:
            with session_scope() as session:
                notify.delete_channel(session, user_id, int(channel_id))
        except ChannelNotFound as exc:
            self.channel_error = str(exc)
        self._refresh(user_id)

    # --- feed --------------------------------------------------------------------------------

    @rx.event
    @signed_in
    def create_feed(self):
        user_id = self._auth_user_id
        with session_scope() as session:
            token = feeds.create_feed(session, user_id)
        self.feed_url = rx.config.get_config().api_url.rstrip("/") + feeds.feed_path(token)
        self.feed_active = True

    @rx.event
    @signed_in
    def revoke_feed(self):
        user_id = self._auth_user_id
        with session_scope() as session:
            feeds.revoke_feed(session, user_id)
        self.feed_url = ""
        self.feed_active = False
