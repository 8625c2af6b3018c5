"""Delivery, run by the tracking tick in the worker fleet (never in a web request).

1. **Plan**: one delivery record per (channel, digest): `run:<id>` for each completed run of a
   user whose rule says "after each run", `daily:<local date>` once the user's hour has come for
   "daily". Inserted with ON CONFLICT DO NOTHING on the unique (channel_id, digest_key): however
   many ticks plan at once, and however often, one record.
2. **Claim**: a guarded UPDATE moves a due record to `sending` with a lock; only the claimer sends.
   A claimer that died leaves the lock to expire, then the record is claimed again.
3. **Send** and record the outcome: `sent`; `skipped` (nothing new: nothing is sent); a failure
   goes back to `pending` with exponential backoff and the reason, or ends `failed` after
   NOTIFY_MAX_ATTEMPTS or at once when retrying cannot help (a refused address, a 4xx).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ingest_app.core.db import get_engine
from ingest_app.core.models import (
    IngestionRun,
    NotificationChannel,
    NotificationDelivery,
    NotificationRule,
    as_utc,
    utcnow,
)
from ingest_app.core.notify import NotifyError
from ingest_app.core.notify.channels import DEFAULT_RULE, RuleView
from ingest_app.core.notify.digest import Digest, build_digest
from ingest_app.core.notify.secrets import decrypt
from ingest_app.core.notify.send import DeliveryFailed, Message, send
from ingest_app.core.schedules import parse_timezone
from ingest_app.core.settings import get_settings

log = logging.getLogger(__name__)

DELIVERIES = NotificationDelivery.__table__
CHANNELS = NotificationChannel.__table__
RULES = NotificationRule.__table__
RUNS = IngestionRun.__table__
LOCK = timedelta(minutes=5)
CATCH_UP = timedelta(days=2)  # runs completed longer ago get no digest (e.g. after a long outage)
MAX_BACKOFF = timedelta(hours=1)


@dataclass
class DispatchReport:
    planned: int = 0
    sent: int = 0
    skipped: int = 0
    retrying: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def backoff(attempts: int) -> timedelta:
    """After the n-th failed attempt: base, 4x base, 16x base, ... capped at an hour."""
    base = get_settings().notify_retry_base_seconds
    return min(MAX_BACKOFF, timedelta(seconds=base * 4 ** max(0, attempts - 1)))


def _insert(conn: sa.Connection) -> Any:
    return postgresql.insert(DELIVERIES) if conn.dialect.name == "postgresql" else sqlite.insert(DELIVERIES)


_DELIVERY_COLUMNS = ["channel_id", "user_id", "digest_key", "run_id", "window_start", "window_end"]
_DELIVERY_COLUMNS += ["state", "attempts", "next_attempt_at", "job_count", "created_at"]


def _plan_after_run(conn: sa.Connection, now: datetime) -> int:
    key = sa.literal("run:") + sa.cast(RUNS.c.run_id, sa.String)
    select = (
        sa.select(
            CHANNELS.c.id,
            CHANNELS.c.user_id,
            key,
            RUNS.c.run_id,
            sa.null(),
            sa.null(),
            sa.literal("pending"),
            sa.literal(0),
            sa.literal(now, sa.DateTime(timezone=True)),
            sa.literal(0),
            sa.literal(now, sa.DateTime(timezone=True)),
        )
        .select_from(
            RUNS.join(RULES, RULES.c.user_id == RUNS.c.user_id).join(CHANNELS, CHANNELS.c.user_id == RUNS.c.user_id)
        )
        .where(
            RUNS.c.status == "completed",
            RUNS.c.completed_at >= now - CATCH_UP,
            RUNS.c.completed_at >= RULES.c.created_at,
            RUNS.c.completed_at >= CHANNELS.c.created_at,
            RULES.c.enabled.is_(True),
            RULES.c.mode == "after_run",
            CHANNELS.c.enabled.is_(True),
        )
    )
    stmt = (
        _insert(conn)
        .from_select(_DELIVERY_COLUMNS, select)
        .on_conflict_do_nothing(index_elements=[DELIVERIES.c.channel_id, DELIVERIES.c.digest_key])
    )
    return max(0, conn.execute(stmt).rowcount or 0)


def daily_due(rule_hour: int, tz_name: str, now: datetime) -> datetime:
    """The latest instant at or before `now` when the user's daily hour began (UTC)."""
    tz = parse_timezone(tz_name)
    local = as_utc(now).astimezone(tz)
    due = local.replace(hour=rule_hour, minute=0, second=0, microsecond=0, tzinfo=None)
    if due > local.replace(tzinfo=None):
        due -= timedelta(days=1)
    return due.replace(tzinfo=tz, fold=0).astimezone(timezone.utc)


def _plan_daily(conn: sa.Connection, now: datetime) -> int:
    rules = conn.execute(
        sa.select(RULES.c.user_id, RULES.c.daily_hour, RULES.c.timezone, RULES.c.created_at).where(
            RULES.c.enabled.is_(True), RULES.c.mode == "daily"
        )
    ).all()
    planned = 0
    for rule in rules:
        due = daily_due(rule.daily_hour, rule.timezone, now)
        if due < as_utc(rule.created_at):
            continue
        key = f"daily:{due.astimezone(parse_timezone(rule.timezone)).date().isoformat()}"
        channels = conn.execute(
            sa.select(CHANNELS.c.id).where(
                CHANNELS.c.user_id == rule.user_id, CHANNELS.c.enabled.is_(True), CHANNELS.c.created_at <= now
            )
        ).scalars()
        for channel_id in channels:
            previous = conn.execute(
                sa.select(sa.func.max(DELIVERIES.c.window_end)).where(
                    DELIVERIES.c.channel_id == channel_id, DELIVERIES.c.digest_key.like("daily:%")
                )
            ).scalar()
            start = max(as_utc(previous) if previous else due - timedelta(days=1), as_utc(rule.created_at))
            stmt = (
                _insert(conn)
                .values(
                    channel_id=channel_id,
                    user_id=rule.user_id,
                    digest_key=key,
                    window_start=start,
                    window_end=due,
                    state="pending",
                    attempts=0,
                    next_attempt_at=now,
                    job_count=0,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=[DELIVERIES.c.channel_id, DELIVERIES.c.digest_key])
            )
            planned += max(0, conn.execute(stmt).rowcount or 0)
    return planned


def plan(now: datetime) -> int:
    with get_engine().begin() as conn:
        return _plan_after_run(conn, now) + _plan_daily(conn, now)


_DUE = (
    sa.select(DELIVERIES.c.id)
    .where(
        sa.or_(
            sa.and_(DELIVERIES.c.state == "pending", DELIVERIES.c.next_attempt_at <= sa.bindparam("p_now")),
            sa.and_(DELIVERIES.c.state == "sending", DELIVERIES.c.locked_until < sa.bindparam("p_now")),
        )
    )
    .order_by(DELIVERIES.c.next_attempt_at, DELIVERIES.c.id)
    .limit(sa.bindparam("p_limit"))
)


def _claim(delivery_id: int, now: datetime) -> Any:
    with get_engine().begin() as conn:
        return conn.execute(
            sa.update(DELIVERIES)
            .where(
                DELIVERIES.c.id == delivery_id,
                sa.or_(
                    sa.and_(DELIVERIES.c.state == "pending", DELIVERIES.c.next_attempt_at <= now),
                    sa.and_(DELIVERIES.c.state == "sending", DELIVERIES.c.locked_until < now),
                ),
            )
            .values(state="sending", locked_until=now + LOCK, attempts=DELIVERIES.c.attempts + 1)
            .returning(*DELIVERIES.c)
        ).first()


MAX_LOG = 20


def _finish(claimed: Any, now: datetime, **values: Any) -> bool:
    """Record the outcome (and append it to the attempt log), unless the claim was lost (the lock
    expired and another worker took it)."""
    entry = {"at": now.isoformat(), "outcome": values["state"], "reason": values.get("last_error")}
    values["attempt_log"] = [*(claimed.attempt_log or []), entry][-MAX_LOG:]
    with get_engine().begin() as conn:
        return (
            conn.execute(
                sa.update(DELIVERIES)
                .where(
                    DELIVERIES.c.id == claimed.id,
                    DELIVERIES.c.state == "sending",
                    DELIVERIES.c.attempts == claimed.attempts,
                )
                .values(locked_until=None, **values)
            ).rowcount
            == 1
        )


def _rule(conn: sa.Connection, user_id: int) -> RuleView:
    from ingest_app.core.notify.channels import get_rule

    with sa.orm.Session(bind=conn) as session:
        rule = get_rule(session, user_id)
    return rule if rule.configured else DEFAULT_RULE


def _message(conn: sa.Connection, claimed: Any) -> tuple[Message | None, int]:
    """The message for a claimed delivery, or (None, 0) when there is nothing to send."""
    key = claimed.digest_key
    if key.startswith("test:"):
        digest = Digest(title="Test notification from Job ingestion", jobs=[], total=0, link="", counts={})
        payload = {"event": "test", "delivery_id": claimed.id, "title": digest.title}
        body = "If you can read this, digests will reach you here."
        return Message(digest.title, body, payload, "test", claimed.id), 0
    rule = _rule(conn, claimed.user_id)
    if key.startswith("run:"):
        digest = build_digest(conn, rule, user_id=claimed.user_id, run_id=claimed.run_id)
    else:
        window = (as_utc(claimed.window_start), as_utc(claimed.window_end))
        digest = build_digest(conn, rule, user_id=claimed.user_id, window=window)
    if digest.total == 0:
        return None, 0
    payload = digest.payload(event="digest", delivery_id=claimed.id, digest_key=key, run_id=claimed.run_id)
    return Message(digest.title, digest.body(), payload, "digest", claimed.id), digest.total


def deliver(claimed: Any, now: datetime, report: DispatchReport) -> None:
    with get_engine().connect() as conn:
        channel = conn.execute(sa.select(CHANNELS).where(CHANNELS.c.id == claimed.channel_id)).first()
        if channel is None or not channel.enabled:
            _finish(claimed, now, state="skipped", last_error="channel disabled")
            report.skipped += 1
            return
        message, count = _message(conn, claimed)
    if message is None:
        _finish(claimed, now, state="skipped", last_error="nothing new", job_count=0)
        report.skipped += 1
        return
    try:
        url = decrypt(channel.url_encrypted)
        secret = decrypt(channel.secret_encrypted) if channel.secret_encrypted else None
        send(channel.kind, url, secret, message)
    except (DeliveryFailed, NotifyError) as exc:
        reason = exc.reason if isinstance(exc, DeliveryFailed) else str(exc)
        permanent = isinstance(exc, NotifyError) or exc.permanent
        if permanent or claimed.attempts >= get_settings().notify_max_attempts:
            _finish(claimed, now, state="failed", last_error=reason)
            report.failed += 1
        else:
            _finish(claimed, now, state="pending", last_error=reason, next_attempt_at=now + backoff(claimed.attempts))
            report.retrying += 1
        log.warning(
            "delivery %s to channel %s failed (attempt %s): %s", claimed.id, channel.id, claimed.attempts, reason
        )
        return
    _finish(claimed, now, state="sent", last_error=None, sent_at=now, job_count=count)
    report.sent += 1
    log.info("delivery %s (%s) sent to channel %s", claimed.id, claimed.digest_key, channel.id)


def dispatch_due(now: datetime | None = None, *, limit: int = 50) -> DispatchReport:
    """Plan the digests that are due, then send every due delivery (at most `limit`)."""
    now = as_utc(now) if now is not None else utcnow()
    report = DispatchReport(planned=plan(now))
    with get_engine().connect() as conn:
        due = conn.execute(_DUE, {"p_now": now, "p_limit": limit}).scalars().all()
    for delivery_id in due:
        claimed = _claim(delivery_id, now)
        if claimed is None:
            continue  # another tick took it
        deliver(claimed, now, report)
    return report
