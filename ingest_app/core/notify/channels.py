"""A user's channels (where digests go) and rule (what goes there, and when)."""

from __future__ import annotations

import logging
import secrets as pysecrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import Session, select

from ingest_app.core.models import (
    NotificationChannel,
    NotificationDelivery,
    NotificationRule,
    as_utc,
    utcnow,
)
from ingest_app.core.notify import ChannelNotFound, NotifyError

__all__ = ["ChannelNotFound", "NotifyError"]
from ingest_app.core.notify.secrets import encrypt, mask_url, redact
from ingest_app.core.schedules import parse_timezone

MAX_CHANNELS = 20
MAX_URL_LENGTH = 2000
MIN_SECRET_LENGTH = 16
# Apprise plugins that do not speak HTTP or SMTP through Python's resolver: desktop and local
# system notifications, raw sockets, long-lived protocols. Their hosts could not be guarded.
REFUSED_PLUGINS = frozenset(
    {"dbus", "glib", "gnome", "macosx", "windows", "syslog", "rsyslog", "blink1", "mqtt", "irc", "xmpp"}
    | {"smpp", "amqp", "nostr", "deltachat", "aprs", "growl"}
)
DELIVERIES = NotificationDelivery.__table__


def apprise_plugin(url: str, *, timeout: float | None = None) -> Any:
    """The Apprise plugin for `url` (NotifyError when Apprise does not understand it)."""
    import apprise

    asset = apprise.AppriseAsset(async_mode=False)  # plugins run in the calling (guarded) thread
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as logs:
        plugin = apprise.Apprise.instantiate(url, asset=asset, suppress_exceptions=True)
    if plugin is None:
        said = [line.strip() for line in logs.getvalue().splitlines() if line.strip() and "Could not load" not in line]
        why = f" ({redact(said[0], url)[:200]})" if said else ""
        raise NotifyError(f"Apprise does not understand this URL{why}; see https://github.com/caronc/apprise/wiki")
    module = type(plugin).__module__.removeprefix("apprise.plugins.").split(".")[0]
    if module in REFUSED_PLUGINS:
        raise NotifyError(f"{module} notifications are not supported here (they would bypass the address guard)")
    if timeout is not None:
        plugin.socket_connect_timeout = timeout
        plugin.socket_read_timeout = timeout
    return plugin


def validate_webhook_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise NotifyError("The webhook URL is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotifyError("The webhook URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise NotifyError("Put no credentials in the webhook URL; requests are signed with the secret")


@dataclass(frozen=True)
class ChannelView:
    id: int
    name: str
    kind: str
    masked_url: str
    enabled: bool
    created_at: datetime
    last_state: str | None = None
    last_error: str | None = None
    last_attempt_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _view(channel: NotificationChannel, last: Any = None) -> ChannelView:
    return ChannelView(
        id=channel.id or 0,
        name=channel.name,
        kind=channel.kind,
        masked_url=channel.masked_url,
        enabled=channel.enabled,
        created_at=as_utc(channel.created_at),
        last_state=last.state if last is not None else None,
        last_error=last.last_error if last is not None else None,
        last_attempt_at=as_utc(last.updated) if last is not None else None,
    )


def list_channels(session: Session, user_id: int) -> list[ChannelView]:
    channels = session.exec(
        select(NotificationChannel).where(NotificationChannel.user_id == user_id).order_by(NotificationChannel.id)
    ).all()
    ids = [c.id for c in channels]
    last: dict[int, Any] = {}
    if ids:
        updated = sa.func.coalesce(DELIVERIES.c.sent_at, DELIVERIES.c.created_at).label("updated")
        latest = (
            sa.select(
                DELIVERIES.c.channel_id,
                DELIVERIES.c.state,
                DELIVERIES.c.last_error,
                updated,
                sa.func.row_number()
                .over(partition_by=DELIVERIES.c.channel_id, order_by=DELIVERIES.c.id.desc())
                .label("n"),
            )
            .where(DELIVERIES.c.channel_id.in_(ids))
            .subquery()
        )
        for row in session.execute(sa.select(latest).where(latest.c.n == 1)):
            last[row.channel_id] = row
    return [_view(c, last.get(c.id)) for c in channels]


def add_channel(
    session: Session, user_id: int, *, name: str, kind: str, url: str, secret: str | None = None
) -> ChannelView:
    """Check and store a channel (URL and secret encrypted); commit. Nothing is contacted."""
    name = " ".join((name or "").split())[:100]
    url = (url or "").strip()
    if not name:
        raise NotifyError("Give the channel a name")
    if not url or len(url) > MAX_URL_LENGTH:
        raise NotifyError(f"The URL must be 1 to {MAX_URL_LENGTH} characters")
    count = session.execute(
        sa.select(sa.func.count()).select_from(NotificationChannel).where(NotificationChannel.user_id == user_id)
    ).scalar_one()
    if count >= MAX_CHANNELS:
        raise NotifyError(f"At most {MAX_CHANNELS} channels per user")
    if kind == "apprise":
        if secret:
            raise NotifyError("Only webhook channels take a signing secret")
        apprise_plugin(url)
    elif kind == "webhook":
        validate_webhook_url(url)
        secret = secret or ""
        if len(secret) < MIN_SECRET_LENGTH or len(secret) > 200:
            raise NotifyError(f"A webhook needs a signing secret of {MIN_SECRET_LENGTH} to 200 characters")
    else:
        raise NotifyError("kind must be apprise or webhook")
    channel = NotificationChannel(
        user_id=user_id,
        name=name,
        kind=kind,
        url_encrypted=encrypt(url),
        masked_url=mask_url(url),
        secret_encrypted=encrypt(secret) if kind == "webhook" else None,
    )
    session.add(channel)
    session.commit()
    session.refresh(channel)
    return _view(channel)


def get_channel(session: Session, user_id: int, channel_id: int) -> NotificationChannel:
    channel = session.get(NotificationChannel, channel_id)
    if channel is None or channel.user_id != user_id:
        raise ChannelNotFound(channel_id)
    return channel


def delete_channel(session: Session, user_id: int, channel_id: int) -> None:
    session.delete(get_channel(session, user_id, channel_id))
    session.commit()


def request_test(session: Session, user_id: int, channel_id: int) -> int:
    """Record a test message for the worker to send; the delivery id (its outcome shows there).
    While a test of this channel is still waiting, asking again returns that one (no flood)."""
    channel = get_channel(session, user_id, channel_id)
    waiting = session.execute(
        sa.select(DELIVERIES.c.id).where(
            DELIVERIES.c.channel_id == channel.id,
            DELIVERIES.c.digest_key.like("test:%"),
            DELIVERIES.c.state.in_(("pending", "sending")),
        )
    ).scalar()
    if waiting is not None:
        return waiting
    delivery = NotificationDelivery(
        channel_id=channel.id, user_id=user_id, digest_key=f"test:{pysecrets.token_hex(8)}", next_attempt_at=utcnow()
    )
    session.add(delivery)
    session.commit()
    return delivery.id or 0


def list_deliveries(session: Session, user_id: int, limit: int = 20) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.select(DELIVERIES, NotificationChannel.__table__.c.name.label("channel_name"))
        .select_from(DELIVERIES.join(NotificationChannel.__table__))
        .where(DELIVERIES.c.user_id == user_id)
        .order_by(DELIVERIES.c.id.desc())
        .limit(max(1, min(limit, 100)))
    ).all()
    return [
        {
            "id": r.id,
            "channel_id": r.channel_id,
            "channel_name": r.channel_name,
            "digest_key": r.digest_key,
            "kind": r.digest_key.split(":", 1)[0],
            "run_id": r.run_id,
            "state": r.state,
            "attempts": r.attempts,
            "job_count": r.job_count,
            "last_error": r.last_error,
            "attempt_log": [
                {**entry, "outcome": "retrying" if entry.get("outcome") == "pending" else entry.get("outcome")}
                for entry in r.attempt_log or []
            ],
            "next_attempt_at": as_utc(r.next_attempt_at) if r.state == "pending" else None,
            "created_at": as_utc(r.created_at),
            "sent_at": as_utc(r.sent_at),
        }
        for r in rows
    ]


# --- the rule -----------------------------------------------------------------------------------

MAX_FILTER_TERMS = 50


@dataclass(frozen=True)
class RuleView:
    enabled: bool
    mode: str
    daily_hour: int
    timezone: str
    include_reopened: bool
    include_changed: bool
    title_keywords: list[str]
    locations: list[str]
    companies: list[str]
    remote_only: bool
    configured: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_RULE = RuleView(
    enabled=True,
    mode="after_run",
    daily_hour=8,
    timezone="UTC",
    include_reopened=False,
    include_changed=False,
    title_keywords=[],
    locations=[],
    companies=[],
    remote_only=False,
    configured=False,
)


def _terms(values: list[str] | None, what: str) -> list[str]:
    cleaned = list(dict.fromkeys(" ".join(str(v).split())[:100] for v in values or [] if str(v).strip()))
    if len(cleaned) > MAX_FILTER_TERMS:
        raise NotifyError(f"At most {MAX_FILTER_TERMS} {what}")
    return cleaned


def get_rule(session: Session, user_id: int) -> RuleView:
    rule = session.get(NotificationRule, user_id)
    if rule is None:
        return DEFAULT_RULE
    return RuleView(
        enabled=rule.enabled,
        mode=rule.mode,
        daily_hour=rule.daily_hour,
        timezone=rule.timezone,
        include_reopened=rule.include_reopened,
        include_changed=rule.include_changed,
        title_keywords=list(rule.title_keywords or []),
        locations=list(rule.locations or []),
        companies=list(rule.companies or []),
        remote_only=rule.remote_only,
    )


def put_rule(session: Session, user_id: int, **values: Any) -> RuleView:
    mode = values.get("mode", "after_run")
    if mode not in ("after_run", "daily"):
        raise NotifyError("mode must be after_run or daily")
    hour = values.get("daily_hour", 8)
    if not isinstance(hour, int) or isinstance(hour, bool) or not 0 <= hour <= 23:
        raise NotifyError("daily_hour must be 0 to 23")
    tz_name = values.get("timezone", "UTC")
    parse_timezone(tz_name)
    now = utcnow()
    rule = session.get(NotificationRule, user_id)
    if rule is None:
        rule = NotificationRule(user_id=user_id, created_at=now)
        session.add(rule)
    rule.enabled = bool(values.get("enabled", True))
    rule.mode = mode
    rule.daily_hour = hour
    rule.timezone = tz_name
    rule.include_reopened = bool(values.get("include_reopened", False))
    rule.include_changed = bool(values.get("include_changed", False))
    rule.title_keywords = _terms(values.get("title_keywords"), "title keywords")
    rule.locations = _terms(values.get("locations"), "locations")
    rule.companies = _terms(values.get("companies"), "companies")
    rule.remote_only = bool(values.get("remote_only", False))
    rule.updated_at = now
    session.commit()
    return get_rule(session, user_id)
