"""Runs that happen on their own: one schedule per user, a 5-field cron expression (or a preset
that becomes one) in the user's IANA timezone, and the tick that starts the runs that are due.

Times are wall-clock times in the schedule's timezone: "daily at 09:00" is 09:00 in Berlin in
winter and in summer. On a spring-forward day a time inside the gap runs at the same offset after
it (02:30 becomes 03:30); on a fall-back day a repeated time runs once (its first occurrence).

The tick (`tick(now)`, run every minute by the local worker and by a scheduled Lambda):

- picks the enabled schedules whose `next_run_at` has come;
- claims each with a guarded UPDATE (`... WHERE id=? AND next_run_at=<the value it read>`) that
  also moves `next_run_at` to the first slot after `now`: of two ticks at once, one claims it, the
  other's UPDATE matches nothing; ticks missed while the worker was down give ONE catch-up run;
- starts the run in the same transaction as the claim; a user whose run is still active is
  skipped, and the schedule says so (`last_outcome`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from cron_descriptor import get_description
from croniter import croniter
from sqlmodel import Session, select

from ingest_app.core.db import get_engine
from ingest_app.core.models import Schedule, as_utc, utcnow

log = logging.getLogger(__name__)

SCHEDULES = Schedule.__table__
PRESET_KINDS = ("hourly", "every_n_hours", "daily", "weekdays", "weekly")
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
MAX_CRON_LENGTH = 120
_CRON_CHARS = set("0123456789*/,-? ") | set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
TICK_BATCH = 200


class ScheduleError(ValueError):
    """Invalid schedule input; the message says which rule failed."""


def parse_timezone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        raise ScheduleError(f"Unknown timezone {name!r}: use an IANA name such as Europe/Berlin")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(f"Unknown timezone {name!r}: use an IANA name such as Europe/Berlin") from None


def validate_cron(expression: str) -> str:
    """A normalized 5-field cron expression (minute hour day-of-month month day-of-week)."""
    if not isinstance(expression, str) or len(expression) > MAX_CRON_LENGTH:
        raise ScheduleError(f"A cron expression has at most {MAX_CRON_LENGTH} characters")
    if not set(expression) <= _CRON_CHARS:
        raise ScheduleError("A cron expression holds only digits, letters, spaces and * / , - ?")
    fields = expression.split()
    if len(fields) != 5:
        raise ScheduleError("A cron expression has 5 fields: minute hour day-of-month month day-of-week")
    normalized = " ".join(fields)
    if not croniter.is_valid(normalized):
        raise ScheduleError(f"Invalid cron expression {normalized!r}")
    return normalized


def _clock(value: Any) -> tuple[int, int]:
    text = str(value or "")
    hour, sep, minute = text.partition(":")
    if not (sep and hour.isdigit() and minute.isdigit() and len(hour) <= 2 and len(minute) == 2):
        raise ScheduleError(f"Time {text!r} must be HH:MM, e.g. 09:00")
    h, m = int(hour), int(minute)
    if h > 23 or m > 59:
        raise ScheduleError(f"Time {text!r} must be between 00:00 and 23:59")
    return h, m


def preset_to_cron(preset: dict[str, Any]) -> str:
    """hourly | every_n_hours (hours 1-23) | daily / weekdays (time HH:MM) | weekly (weekday, time)."""
    kind = preset.get("kind")
    if kind == "hourly":
        return "0 * * * *"
    if kind == "every_n_hours":
        hours = preset.get("hours")
        if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= 23:
            raise ScheduleError("every_n_hours needs hours between 1 and 23")
        return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
    if kind in ("daily", "weekdays", "weekly"):
        hour, minute = _clock(preset.get("time"))
        if kind == "daily":
            return f"{minute} {hour} * * *"
        if kind == "weekdays":
            return f"{minute} {hour} * * 1-5"
        day = str(preset.get("weekday") or "").lower()
        if day not in WEEKDAYS:
            raise ScheduleError(f"weekly needs a weekday: one of {', '.join(WEEKDAYS)}")
        return f"{minute} {hour} * * {WEEKDAYS.index(day)}"
    raise ScheduleError(f"Unknown preset {kind!r}: use one of {', '.join(PRESET_KINDS)}")


def describe(expression: str) -> str:
    """The cron expression in plain words ("At 09:00 AM, Monday through Friday")."""
    try:
        return get_description(expression)
    except Exception:  # the describer refuses some valid expressions; the expression itself is shown then
        return expression


def next_run_after(expression: str, tz_name: str, after: datetime) -> datetime:
    """The first slot strictly after `after`, as an aware UTC datetime.

    The expression is evaluated on the wall clock of `tz_name`; each candidate is placed on the
    timeline with fold=0 (a gap time lands after the gap; a repeated time is its first occurrence).
    """
    tz = parse_timezone(tz_name)
    after_utc = as_utc(after).astimezone(timezone.utc)
    wall = after_utc.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
    # Start a day early: a wall-clock slot in a repeated hour may still lie ahead on the timeline.
    it = croniter(expression, wall - timedelta(days=1))
    for _ in range(10_000):
        candidate = it.get_next(datetime).replace(tzinfo=tz, fold=0).astimezone(timezone.utc)
        if candidate > after_utc:
            return candidate
    raise ScheduleError(f"{expression!r} has no run time in the foreseeable future")


# --- reading and writing a user's schedule ----------------------------------------------------


@dataclass(frozen=True)
class ScheduleView:
    enabled: bool
    cron: str
    preset: dict[str, Any] | None
    description: str
    timezone: str
    next_run_at: datetime | None
    last_tick_at: datetime | None
    last_run_id: int | None
    last_outcome: str | None
    configured: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _view(schedule: Schedule) -> ScheduleView:
    return ScheduleView(
        enabled=schedule.enabled,
        cron=schedule.cron,
        preset=schedule.preset,
        description=describe(schedule.cron),
        timezone=schedule.timezone,
        next_run_at=as_utc(schedule.next_run_at) if schedule.enabled else None,
        last_tick_at=as_utc(schedule.last_tick_at),
        last_run_id=schedule.last_run_id,
        last_outcome=schedule.last_outcome,
    )


UNSET = ScheduleView(
    enabled=False,
    cron="",
    preset=None,
    description="No schedule: runs start only when you start them",
    timezone="UTC",
    next_run_at=None,
    last_tick_at=None,
    last_run_id=None,
    last_outcome=None,
    configured=False,
)


def get_schedule(session: Session, user_id: int) -> ScheduleView:
    schedule = session.exec(select(Schedule).where(Schedule.user_id == user_id)).first()
    return UNSET if schedule is None else _view(schedule)


def put_schedule(
    session: Session,
    user_id: int,
    *,
    cron: str | None = None,
    preset: dict[str, Any] | None = None,
    tz_name: str = "UTC",
    enabled: bool = True,
    now: datetime | None = None,
) -> ScheduleView:
    """Create or replace the user's schedule (exactly one of `cron` / `preset`) and commit."""
    if (cron is None) == (preset is None):
        raise ScheduleError("Give either a cron expression or a preset")
    expression = validate_cron(cron) if cron is not None else preset_to_cron(preset or {})
    parse_timezone(tz_name)
    now = now or utcnow()
    schedule = session.exec(select(Schedule).where(Schedule.user_id == user_id)).first()
    if schedule is None:
        schedule = Schedule(user_id=user_id, cron=expression, created_at=now)
        session.add(schedule)
    schedule.cron = expression
    schedule.preset = dict(preset) if preset is not None else None
    schedule.timezone = tz_name
    schedule.enabled = bool(enabled)
    schedule.next_run_at = next_run_after(expression, tz_name, now) if enabled else None
    schedule.updated_at = now
    session.commit()
    session.refresh(schedule)
    return _view(schedule)


# --- the tick ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TickResult:
    schedule_id: int
    user_id: int
    outcome: str  # "started" | "skipped"
    run_id: int | None
    reason: str | None
    due_at: datetime
    next_run_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_DUE = (
    sa.select(SCHEDULES.c.id, SCHEDULES.c.user_id, SCHEDULES.c.cron, SCHEDULES.c.timezone, SCHEDULES.c.next_run_at)
    .where(SCHEDULES.c.enabled.is_(True), SCHEDULES.c.next_run_at <= sa.bindparam("p_now"))
    .order_by(SCHEDULES.c.next_run_at, SCHEDULES.c.id)
    .limit(TICK_BATCH)
)


def _claim(session: Session, row: Any, now: datetime) -> datetime | None:
    """The guarded UPDATE: the new next_run_at when this tick claimed the slot, else None."""
    try:
        upcoming = next_run_after(row.cron, row.timezone, now)
    except ScheduleError as exc:  # stored before a rule tightened: pause it and say why
        session.execute(
            sa.update(SCHEDULES)
            .where(SCHEDULES.c.id == row.id, SCHEDULES.c.next_run_at == row.next_run_at)
            .values(enabled=False, last_tick_at=now, last_outcome=f"paused: {exc}")
        )
        session.commit()
        return None
    claimed = session.execute(
        sa.update(SCHEDULES)
        .where(SCHEDULES.c.id == row.id, SCHEDULES.c.enabled.is_(True), SCHEDULES.c.next_run_at == row.next_run_at)
        .values(next_run_at=upcoming, last_tick_at=now)
    ).rowcount
    if not claimed:
        session.rollback()
        return None
    return upcoming


def _outcome(session: Session, schedule_id: int, text: str, run_id: int | None = None) -> None:
    values: dict[str, Any] = {"last_outcome": text[:1000]}
    if run_id is not None:
        values["last_run_id"] = run_id
    session.execute(sa.update(SCHEDULES).where(SCHEDULES.c.id == schedule_id).values(**values))


def tick(now: datetime | None = None, *, launch: Callable[[int], Any] | None = None) -> list[TickResult]:
    """Start every run due at `now` (default: the current time); one result per due schedule.

    `launch(run_id)` starts stage 3 of each started run after its transaction committed (the
    worker and the Lambda enqueue its listing messages, the CLI runs it inline); None: only start.
    """
    from ingest_app.core.pipeline.errors import NoCompanies, RunAlreadyActive
    from ingest_app.core.pipeline.runs import get_active_run, start_run

    now = as_utc(now) if now is not None else utcnow()
    results: list[TickResult] = []
    with Session(get_engine(), expire_on_commit=False) as session:
        due = session.execute(_DUE, {"p_now": now}).all()
        session.rollback()
        for row in due:
            upcoming = _claim(session, row, now)
            if upcoming is None:
                continue
            run_id: int | None = None
            reason: str | None = None
            active = get_active_run(session, row.user_id)
            if active is not None:
                reason = f"skipped: run {active.run_id} was still active"
            else:
                try:
                    run_id = start_run(session, row.user_id).run_id  # commits the claim with the run
                except NoCompanies:
                    reason = "skipped: no enabled companies"
                except RunAlreadyActive as exc:  # a run started meanwhile; start_run rolled back the claim
                    upcoming = _claim(session, row, now)
                    if upcoming is None:
                        continue
                    reason = (
                        f"skipped: run {exc.run_id} was still active" if exc.run_id else "skipped: a run was active"
                    )
            _outcome(session, row.id, reason or f"started run {run_id}", run_id)
            session.commit()
            log.info("schedule %s of user %s: %s", row.id, row.user_id, reason or f"started run {run_id}")
            results.append(
                TickResult(
                    schedule_id=row.id,
                    user_id=row.user_id,
                    outcome="started" if run_id is not None else "skipped",
                    run_id=run_id,
                    reason=reason,
                    due_at=as_utc(row.next_run_at),
                    next_run_at=upcoming,
                )
            )
    if launch is not None:
        for result in results:
            if result.run_id is not None:
                launch(result.run_id)
    return results
