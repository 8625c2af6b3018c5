"""The schedule and notifications screens' states: save a schedule (preset, cron, errors), run
now; the digest rule, channels with their last outcome, send test (queued, not sent), feed."""

from __future__ import annotations

from ingest_app.core.models import Company
from ingest_app.core.notify.dispatch import dispatch_due
from ingest_app.states.notifications import NotificationsState
from ingest_app.states.schedule import ScheduleState
from tests.support.fleet import FleetQueue
from tests.support.greenhouse_site import fixture_site  # noqa: F401
from tests.support.receivers import smtp_server  # noqa: F401
from tests.support.runs import run_row  # noqa: F401
from tests.ui.state_helpers import call, new_state, redirect_target


def test_schedule_screen_saves_presets_and_cron_and_shows_errors(session, make_user):
    user = make_user()
    state = new_state(ScheduleState, user_id=user.id)
    call(state, "load")
    assert state.configured is False and "No schedule" in state.description

    call(state, "set_kind", "weekdays")
    call(state, "set_time", "07:30")
    call(state, "set_timezone", "Europe/Berlin")
    call(state, "save")
    assert state.error == "" and state.notice == "Schedule saved"
    assert state.description == "At 07:30 AM, Monday through Friday" and state.next_run.endswith("UTC")

    again = new_state(ScheduleState, user_id=user.id)
    call(again, "load")
    assert (again.kind, again.time, again.timezone, again.cron) == (
        "weekdays",
        "07:30",
        "Europe/Berlin",
        "30 7 * * 1-5",
    )

    call(again, "set_kind", "cron")
    call(again, "set_cron", "0 9 * *")
    call(again, "save")
    assert "5 fields" in again.error
    call(again, "set_cron", "15 */2 * * *")
    call(again, "set_enabled", False)
    call(again, "save")
    assert again.notice == "Schedule saved (paused)" and again.next_run == ""


def test_run_now_starts_a_run_or_says_why_not(engine, session, make_user, fixture_site):  # noqa: F811
    user = make_user()
    state = new_state(ScheduleState, user_id=user.id)
    queue = FleetQueue().__enter__()
    try:
        _run_now(state, queue, engine, session, user, fixture_site)
    finally:
        queue.__exit__(None, None, None)


def _run_now(state, queue, engine, session, user, fixture_site) -> None:  # noqa: F811
    call(state, "run_now")
    assert "Add or enable at least one company" in state.error
    fixture_site.boards["acme"] = []  # the local board lists nothing: the run completes at once
    session.add(Company(user_id=user.id, name="Acme", source_kind="greenhouse", source_value="acme"))
    session.commit()
    target = redirect_target(call(state, "run_now"))
    assert target is not None and target.startswith("/run?run=")
    run_id = int(target.split("=", 1)[1])
    assert run_row(engine, run_id).status == "archiving"  # enqueued only: the workers list
    assert queue.drain(run_id) == ["listed"]
    assert run_row(engine, run_id).status == "completed"
    call(state, "run_now")
    assert state.error == ""  # the first run finished: a second one may start


def test_notifications_screen_rule_channels_test_and_feed(session, make_user, smtp_server):  # noqa: F811
    user = make_user()
    state = new_state(NotificationsState, user_id=user.id)
    call(state, "load")
    assert state.mode == "after_run" and state.channels == []

    call(state, "set_mode", "daily")
    call(state, "set_daily_hour", "07")
    call(state, "set_rule_timezone", "Mars/Base")
    call(state, "save_rule")
    assert "Unknown timezone" in state.rule_error
    call(state, "set_rule_timezone", "Europe/Paris")
    call(state, "set_keywords", "python, rust ,")
    call(state, "save_rule")
    assert state.rule_notice == "Digest settings saved"

    call(state, "set_new_name", "Inbox")
    call(state, "set_new_url", "nonsense://x")
    call(state, "add_channel")
    assert "Apprise does not understand" in state.channel_error and state.channels == []
    call(state, "set_new_url", smtp_server.url())
    call(state, "add_channel")
    assert [c.name for c in state.channels] == ["Inbox"] and state.new_url == ""
    assert state.channels[0].state == "" and "ada@" not in state.channels[0].masked_url

    call(state, "send_test", state.channels[0].id)
    assert state.waiting is True and smtp_server.messages == [] and state.deliveries[0].state == "pending"
    dispatch_due()
    call(state, "tick")
    assert state.channels[0].state == "sent" and state.deliveries[0].what == "test message"
    assert state.waiting is False and len(smtp_server.messages) == 1

    reloaded = new_state(NotificationsState, user_id=user.id)
    call(reloaded, "load")
    assert (reloaded.mode, reloaded.daily_hour, reloaded.keywords) == ("daily", "07", "python, rust")

    call(reloaded, "create_feed")
    assert reloaded.feed_active and "/feeds/" in reloaded.feed_url and reloaded.feed_url.endswith(".atom")
    call(reloaded, "revoke_feed")
    assert reloaded.feed_active is False and reloaded.feed_url == ""
    call(reloaded, "delete_channel", reloaded.channels[0].id)
    assert reloaded.channels == []
