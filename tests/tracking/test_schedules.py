"""Schedules on PostgreSQL: presets and cron in a timezone, next run across DST changes, the
tick with a fixed clock (CLI and core), one catch-up run for missed ticks, skipping while a run is
active, and two concurrent ticks starting one run."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from ingest_app.cli import main as cli_main
from ingest_app.core import schedules
from ingest_app.core.companies import add_company
from ingest_app.core.models import IngestionRun, Schedule
from ingest_app.core.pipeline import start_run
from tests.support.fleet import FleetQueue

UTC = timezone.utc
RUNS = IngestionRun.__table__
SCHEDULES = Schedule.__table__


def _user_with_company(session, make_user, token: str = "acme"):
    user = make_user()
    add_company(session, user.id, name="Acme", source=f"greenhouse:{token}")
    session.commit()
    return user


def _runs(engine, user_id: int) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(RUNS.c.run_id, RUNS.c.status).where(RUNS.c.user_id == user_id)).all()
    return [(r.run_id, r.status) for r in rows]


@pytest.mark.parametrize(
    ("preset", "cron", "words"),
    [
        ({"kind": "hourly"}, "0 * * * *", "Every hour"),
        ({"kind": "every_n_hours", "hours": 6}, "0 */6 * * *", "Every 6 hours"),
        ({"kind": "daily", "time": "09:30"}, "30 9 * * *", "At 09:30 AM"),
        ({"kind": "weekdays", "time": "07:05"}, "5 7 * * 1-5", "At 07:05 AM, Monday through Friday"),
        ({"kind": "weekly", "weekday": "sunday", "time": "18:00"}, "0 18 * * 0", "At 06:00 PM, only on Sunday"),
    ],
)
def test_presets_become_cron_expressions_described_in_plain_words(preset, cron, words):
    assert schedules.preset_to_cron(preset) == cron
    assert schedules.describe(cron) == words


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"cron": "0 9 * *"}, "5 fields"),
        ({"cron": "0 0 9 * * *"}, "5 fields"),  # croniter would take seconds; we refuse
        ({"cron": "61 9 * * *"}, "Invalid cron"),
        ({"cron": "0 9 * * 1;rm"}, "only digits"),
        ({"cron": "*/1 " * 40}, "at most 120"),
        ({"preset": {"kind": "daily", "time": "25:00"}}, "between 00:00 and 23:59"),
        ({"preset": {"kind": "daily", "time": "9"}}, "HH:MM"),
        ({"preset": {"kind": "weekly", "time": "09:00"}}, "weekday"),
        ({"preset": {"kind": "every_n_hours", "hours": 0}}, "between 1 and 23"),
        ({"preset": {"kind": "fortnightly"}}, "Unknown preset"),
        ({"cron": "0 9 * * *", "tz_name": "Mars/Olympus"}, "Unknown timezone"),
        ({"cron": "0 9 * * *", "tz_name": "../../etc/passwd"}, "Unknown timezone"),
        ({}, "either a cron expression or a preset"),
    ],
)
def test_bad_schedules_are_refused_with_a_clear_message(session, make_user, bad, message):
    user = make_user()
    with pytest.raises(schedules.ScheduleError, match=message):
        schedules.put_schedule(session, user.id, **bad)
    assert schedules.get_schedule(session, user.id).configured is False


def test_daily_runs_keep_their_wall_clock_time_across_dst_changes():
    berlin = "Europe/Berlin"
    # Spring forward (2026-03-29): 09:00 CET is 08:00Z, 09:00 CEST is 07:00Z.
    before = schedules.next_run_after("0 9 * * *", berlin, datetime(2026, 3, 28, 6, 0, tzinfo=UTC))
    after = schedules.next_run_after("0 9 * * *", berlin, before)
    assert (before, after) == (datetime(2026, 3, 28, 8, 0, tzinfo=UTC), datetime(2026, 3, 29, 7, 0, tzinfo=UTC))
    # Fall back (2026-10-25): back to 08:00Z.
    autumn = schedules.next_run_after("0 9 * * *", berlin, datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    assert autumn == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
    # A time inside the spring gap (02:30 does not exist) runs once, at 03:30 CEST = 01:30Z.
    gap = schedules.next_run_after("30 2 * * *", berlin, datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    assert gap == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # A repeated time (02:30 twice on 2026-10-25) runs once: the first occurrence, then the next day.
    first = schedules.next_run_after("30 2 * * *", berlin, datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert schedules.next_run_after("30 2 * * *", berlin, first) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)
    # Hourly keeps going through the repeated hour without duplicates.
    start = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)
    slots = [start]
    for _ in range(4):
        slots.append(schedules.next_run_after("0 * * * *", berlin, slots[-1]))
    assert all(b > a for a, b in zip(slots, slots[1:], strict=False))


def test_a_tick_across_the_dst_change_starts_the_run_at_the_new_utc_time(engine, session, make_user):
    user = _user_with_company(session, make_user)
    view = schedules.put_schedule(
        session,
        user.id,
        preset={"kind": "daily", "time": "09:00"},
        tz_name="Europe/Berlin",
        now=datetime(2026, 3, 28, 12, 0, tzinfo=UTC),
    )
    assert view.next_run_at == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert schedules.tick(datetime(2026, 3, 29, 6, 59, tzinfo=UTC)) == []  # 08:59 local: not yet
    [started] = schedules.tick(datetime(2026, 3, 29, 7, 0, tzinfo=UTC))
    assert started.outcome == "started" and started.next_run_at == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_the_cli_tick_with_a_fixed_clock_starts_the_due_run_and_prints_it(
    engine,
    session,
    make_user,
    fixture_site,
    capsys,  # noqa: F811
):
    fixture_site.boards["acme"] = []  # lists nothing: stage 3 completes the run without the queue
    user = _user_with_company(session, make_user)
    schedules.put_schedule(
        session, user.id, cron="0 9 * * *", tz_name="America/New_York", now=datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    )

    assert cli_main(["schedules", "tick", "--now", "2026-06-01T12:59:00Z"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert cli_main(["schedules", "tick", "--now", "2026-06-01T13:00:30Z"]) == 0  # 09:00 EDT
    [printed] = json.loads(capsys.readouterr().out)
    assert printed["outcome"] == "started" and printed["user_id"] == user.id
    assert printed["due_at"].startswith("2026-06-01 13:00:00") and printed["next_run_at"].startswith("2026-06-02 13:00")
    assert _runs(engine, user.id) == [(printed["run_id"], "completed")]  # stage 3 ran

    assert cli_main(["schedules", "tick", "--now", "tomorrow-ish"]) == 2
    assert "not an ISO 8601 date-time" in capsys.readouterr().err


def test_missed_ticks_start_one_catch_up_run_not_a_burst(engine, session, make_user):
    user = _user_with_company(session, make_user)
    schedules.put_schedule(
        session, user.id, preset={"kind": "hourly"}, tz_name="UTC", now=datetime(2026, 5, 1, 0, 30, tzinfo=UTC)
    )
    # The worker was down from 01:00 to 07:10: six slots missed.
    results = schedules.tick(datetime(2026, 5, 1, 7, 10, tzinfo=UTC))
    assert [r.outcome for r in results] == ["started"]
    assert results[0].due_at == datetime(2026, 5, 1, 1, 0, tzinfo=UTC)
    assert results[0].next_run_at == datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    assert schedules.tick(datetime(2026, 5, 1, 7, 11, tzinfo=UTC)) == []
    assert len(_runs(engine, user.id)) == 1


def test_a_schedule_due_while_a_run_is_active_is_skipped_and_says_so(engine, session, make_user):
    user = _user_with_company(session, make_user)
    active = start_run(session, user.id)
    schedules.put_schedule(
        session, user.id, preset={"kind": "hourly"}, tz_name="UTC", now=datetime(2026, 5, 1, 0, 30, tzinfo=UTC)
    )
    [skipped] = schedules.tick(datetime(2026, 5, 1, 1, 0, tzinfo=UTC))
    assert (skipped.outcome, skipped.run_id) == ("skipped", None)
    assert skipped.reason == f"skipped: run {active.run_id} was still active"
    view = schedules.get_schedule(session, user.id)
    assert view.last_outcome == skipped.reason and view.next_run_at == datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
    assert _runs(engine, user.id) == [(active.run_id, "archiving")]


def test_a_user_without_enabled_companies_is_skipped_with_the_reason(session, make_user):
    user = make_user()
    schedules.put_schedule(session, user.id, cron="*/5 * * * *", now=datetime(2026, 5, 1, 0, 0, tzinfo=UTC))
    [skipped] = schedules.tick(datetime(2026, 5, 1, 0, 5, tzinfo=UTC))
    assert skipped.reason == "skipped: no enabled companies"
    assert schedules.get_schedule(session, user.id).last_outcome == "skipped: no enabled companies"


def test_a_paused_schedule_starts_nothing(engine, session, make_user):
    user = _user_with_company(session, make_user)
    view = schedules.put_schedule(session, user.id, preset={"kind": "hourly"}, enabled=False)
    assert view.next_run_at is None and view.enabled is False
    assert schedules.tick(datetime.now(UTC) + timedelta(days=2)) == []


def test_two_concurrent_ticks_start_one_run(engine, session, make_user):
    users = [_user_with_company(session, make_user, token=f"co{i}") for i in range(5)]
    for user in users:
        schedules.put_schedule(
            session, user.id, preset={"kind": "hourly"}, tz_name="UTC", now=datetime(2026, 5, 1, 0, 30, tzinfo=UTC)
        )
    at = datetime(2026, 5, 1, 1, 0, tzinfo=UTC)
    barrier = threading.Barrier(2)
    outcomes: list[list[schedules.TickResult]] = []
    errors: list[BaseException] = []

    def _tick() -> None:
        try:
            barrier.wait(5)
            outcomes.append(schedules.tick(at))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=_tick) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    started = [r for results in outcomes for r in results if r.outcome == "started"]
    assert sorted(r.user_id for r in started) == sorted(u.id for u in users)  # each schedule once
    for user in users:
        assert len(_runs(engine, user.id)) == 1


def test_the_scheduled_lambda_starts_due_runs_then_delivers_and_answers_json(engine, session, make_user, fixture_site):
    from lambda_worker import schedule_lambda

    fixture_site.boards["acme"] = []  # stage 3 (one listing message) completes the run at once
    user = _user_with_company(session, make_user)
    schedules.put_schedule(session, user.id, cron="*/5 * * * *", now=datetime.now(UTC) - timedelta(minutes=10))
    busy = make_user()  # its schedule is due too, but its run is still active
    add_company(session, busy.id, name="Busy", source="greenhouse:acme")
    session.commit()
    active = start_run(session, busy.id)
    schedules.put_schedule(session, busy.id, cron="*/5 * * * *", now=datetime.now(UTC) - timedelta(minutes=10))

    with FleetQueue() as queue:  # the crawl queue the Lambda enqueues stage 3 on
        out = schedule_lambda.handler({"source": "aws.events"}, None)
        assert json.loads(json.dumps(out)) == out  # the runtime answers in JSON
        assert out["started"] == 1
        by_user = {r["user_id"]: r for r in out["runs"]}
        assert by_user[busy.id]["reason"] == f"skipped: run {active.run_id} was still active"
        run_id = by_user[user.id]["run_id"]
        assert _runs(engine, user.id) == [(run_id, "archiving")]  # enqueued: the crawl workers list
        assert queue.drain(run_id) == ["listed"]
    assert _runs(engine, user.id) == [(run_id, "completed")]
    assert set(out["deliveries"]) == {"planned", "sent", "skipped", "retrying", "failed"}
