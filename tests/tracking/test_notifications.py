"""Digests on PostgreSQL to real receivers: an SMTP server receiving the email through Apprise,
a webhook receiver verifying the HMAC signature; exactly one digest per run and channel under
concurrent dispatch; a channel down, then up (retried with backoff); filters; nothing new sends
nothing; 10 jobs and "N more"; daily digests at the user's hour; secrets encrypted and never
logged; loopback refused without connecting unless CRAWLER_ALLOW_PRIVATE_HOSTS."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from ingest_app.core.models import NotificationChannel, NotificationDelivery, NotificationRule, utcnow
from ingest_app.core.notify import channels as notify
from ingest_app.core.notify.dispatch import daily_due, dispatch_due
from ingest_app.core.notify.send import sign
from tests.support.runs import completed_run

DELIVERIES = NotificationDelivery.__table__
THREE_JOBS = [("a", "Python Engineer", "Berlin"), ("b", "Data Analyst", "Remote"), ("c", "Python SRE", "Paris")]


def _deliveries(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.select(DELIVERIES).order_by(DELIVERIES.c.id)).all()


def test_one_digest_email_per_run_even_when_two_ticks_dispatch_at_once(engine, session, make_user, smtp_server):
    user = make_user()
    notify.put_rule(session, user.id, mode="after_run")
    notify.add_channel(session, user.id, name="Mail", kind="apprise", url=smtp_server.url())
    run_id = completed_run(session, user.id, THREE_JOBS)

    barrier = threading.Barrier(2)
    reports = []

    def _dispatch() -> None:
        barrier.wait(5)
        reports.append(dispatch_due())

    threads = [threading.Thread(target=_dispatch) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert sum(r.sent for r in reports) == 1 and len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["Subject"] == f"Run #{run_id}: +3 new" and message["To"] == "ada@example.com"
    body = smtp_server.bodies()[0]
    assert "Python Engineer — Acme · Berlin" in body and "https://jobs.example.com/acme/b" in body
    assert f"All of them: http://localhost:3000/jobs?run={run_id}" in body
    [delivery] = _deliveries(engine)
    assert (delivery.digest_key, delivery.state, delivery.job_count) == (f"run:{run_id}", "sent", 3)
    assert delivery.attempts == 1
    # Later ticks find nothing to do.
    assert dispatch_due().sent == 0 and len(smtp_server.messages) == 1


def test_signed_webhook_lists_ten_jobs_and_n_more_and_the_receiver_verifies_the_signature(
    engine, session, make_user, webhook
):
    webhook.start()
    user = make_user()
    notify.put_rule(session, user.id, mode="after_run")
    notify.add_channel(session, user.id, name="Hook", kind="webhook", url=webhook.url, secret=webhook.secret)
    run_id = completed_run(session, user.id, [(f"j{i:02d}", f"Engineer {i:02d}", "Berlin") for i in range(13)])

    assert dispatch_due().sent == 1
    [hit] = webhook.received
    assert hit["verified"] is True and hit["event"] == "digest"
    payload = hit["payload"]
    assert (payload["total"], payload["more"], len(payload["jobs"])) == (13, 3, 10)
    assert payload["summary"] == "+13 new" and payload["link"] == f"http://localhost:3000/jobs?run={run_id}"
    assert payload["jobs"][0] == {
        "kind": "new",
        "title": "Engineer 00",
        "company": "Acme",
        "location": "Berlin",
        "url": "https://jobs.example.com/acme/j00",
    }
    assert hit["delivery"] == str(_deliveries(engine)[0].id)
    # The signature covers the exact bytes: one changed byte, or another secret, does not verify.
    assert sign(webhook.secret, hit["raw"]) == hit["signature"]
    assert sign(webhook.secret, hit["raw"].replace(b"Engineer 00", b"Engineer 99")) != hit["signature"]
    assert sign("another-secret-0123456789", hit["raw"]) != hit["signature"]


def test_a_channel_that_is_down_is_retried_with_backoff_until_it_is_up(engine, session, make_user, webhook):
    user = make_user()
    notify.put_rule(session, user.id, mode="after_run")
    notify.add_channel(session, user.id, name="Hook", kind="webhook", url=webhook.url, secret=webhook.secret)
    run_id = completed_run(session, user.id, THREE_JOBS)
    t0 = utcnow()

    report = dispatch_due(t0)  # nothing listens on the port yet
    assert (report.sent, report.retrying) == (0, 1)
    [down] = _deliveries(engine)
    assert (down.state, down.attempts) == ("pending", 1)
    assert down.last_error.startswith("connection_error")
    assert down.next_attempt_at == t0 + timedelta(seconds=30)
    listed = notify.list_channels(session, user.id)[0]
    assert listed.last_state == "pending" and listed.last_error == down.last_error  # visible to the user

    assert dispatch_due(t0 + timedelta(seconds=10)).retrying == 0  # not yet due again
    dispatch_due(t0 + timedelta(seconds=31))  # still down: the second wait is 4x longer
    assert _deliveries(engine)[0].next_attempt_at == t0 + timedelta(seconds=31 + 120)

    webhook.start()
    assert dispatch_due(t0 + timedelta(seconds=31 + 120)).sent == 1
    [up] = _deliveries(engine)
    assert (up.state, up.attempts, up.last_error) == ("sent", 3, None)
    [shown] = notify.list_deliveries(session, user.id)
    assert [(a["outcome"], (a["reason"] or "").split(":")[0]) for a in shown["attempt_log"]] == [
        ("retrying", "connection_error"),
        ("retrying", "connection_error"),
        ("sent", ""),
    ]
    assert [h["payload"]["run_id"] for h in webhook.received] == [run_id]


def test_a_receiver_that_refuses_for_good_is_not_retried(engine, session, make_user, webhook):
    webhook.status = 410
    webhook.start()
    user = make_user()
    notify.put_rule(session, user.id)
    notify.add_channel(session, user.id, name="Hook", kind="webhook", url=webhook.url, secret=webhook.secret)
    completed_run(session, user.id, THREE_JOBS)
    assert dispatch_due().failed == 1
    [delivery] = _deliveries(engine)
    assert (delivery.state, delivery.last_error) == ("failed", "http_410: the webhook answered 410")


def test_filters_pick_the_jobs_and_nothing_matching_sends_nothing(engine, session, make_user, smtp_server):
    user = make_user()
    notify.add_channel(session, user.id, name="Mail", kind="apprise", url=smtp_server.url())
    notify.put_rule(session, user.id, title_keywords=["python"], locations=["berlin", "paris"])
    completed_run(session, user.id, THREE_JOBS)
    assert dispatch_due().sent == 1
    body = smtp_server.bodies()[0]
    assert "Python Engineer" in body and "Python SRE" in body and "Data Analyst" not in body

    notify.put_rule(session, user.id, remote_only=True, companies=["Globex"])
    completed_run(session, user.id, [("d", "Remote Python Dev", "Remote")])
    report = dispatch_due()
    assert (report.sent, report.skipped) == (0, 1)
    assert len(smtp_server.messages) == 1  # nothing new for this rule: nothing sent
    assert (_deliveries(engine)[-1].state, _deliveries(engine)[-1].last_error) == ("skipped", "nothing new")


def test_reopened_and_changed_jobs_only_when_the_rule_asks(engine, session, make_user, webhook):
    from tests.support.runs import add_archived_job, posting, seed_run

    webhook.start()
    user = make_user()
    notify.add_channel(session, user.id, name="Hook", kind="webhook", url=webhook.url, secret=webhook.secret)
    notify.put_rule(session, user.id, include_reopened=True)
    back = "https://jobs.example.com/acme/back"
    add_archived_job(session, user.id, back)
    run_id, [item] = seed_run(session, user.id, [back])
    from ingest_app.core.pipeline import record_item_result

    assert record_item_result(run_id, item, posting=posting(back), error=None)
    dispatch_due()
    [hit] = webhook.received
    assert [job["kind"] for job in hit["payload"]["jobs"]] == ["reopened"]  # not the "changed" record


def test_daily_digest_goes_out_once_at_the_users_hour(engine, session, make_user, smtp_server):
    user = make_user()
    notify.add_channel(session, user.id, name="Mail", kind="apprise", url=smtp_server.url())
    notify.put_rule(session, user.id, mode="daily", daily_hour=9, timezone="Europe/Berlin")
    with engine.begin() as conn:  # the rule and channel exist since yesterday
        for table in (NotificationRule.__table__, NotificationChannel.__table__):
            conn.execute(sa.update(table).values(created_at=utcnow() - timedelta(days=1)))
    completed_run(session, user.id, THREE_JOBS)
    due = daily_due(9, "Europe/Berlin", utcnow() + timedelta(days=1))  # the next 09:00 in Berlin
    assert due.astimezone(timezone.utc).hour in (7, 8) and due > utcnow()

    assert dispatch_due(due - timedelta(minutes=1)).planned == 1  # yesterday's digest: before the run
    assert len(smtp_server.messages) == 0 and _deliveries(engine)[0].state == "skipped"
    report = dispatch_due(due)
    assert (report.planned, report.sent) == (1, 1)
    assert smtp_server.messages[0]["Subject"].startswith(f"Daily digest {due:%Y-%m-%d}: +3 new")
    assert dispatch_due(due + timedelta(hours=3)).planned == 0 and len(smtp_server.messages) == 1


def test_a_test_message_is_sent_by_the_worker_and_its_outcome_shown(session, make_user, smtp_server):
    user = make_user()
    channel = notify.add_channel(session, user.id, name="Mail", kind="apprise", url=smtp_server.url())
    first = notify.request_test(session, user.id, channel.id)
    assert notify.request_test(session, user.id, channel.id) == first  # still waiting: no second one
    assert smtp_server.messages == []  # nothing is sent by the request itself
    assert dispatch_due().sent == 1
    assert smtp_server.messages[0]["Subject"] == "Test notification from Job ingestion"
    assert notify.list_channels(session, user.id)[0].last_state == "sent"
    assert notify.request_test(session, user.id, channel.id) != first  # the next test is a new one


def test_loopback_channels_are_refused_without_connecting(
    engine, session, make_user, counting_listener, private_hosts_refused
):
    user = make_user()
    port = counting_listener.port
    mail = notify.add_channel(
        session,
        user.id,
        name="Mail",
        kind="apprise",
        url=f"mailto://127.0.0.1:{port}?from=d@example.com&to=a@example.com&mode=insecure",
    )
    hook = notify.add_channel(
        session, user.id, name="Hook", kind="webhook", url=f"http://127.0.0.1:{port}/x", secret="x" * 20
    )
    json_hook = notify.add_channel(session, user.id, name="JSON", kind="apprise", url=f"json://localhost:{port}/x")
    for channel in (mail, hook, json_hook):
        notify.request_test(session, user.id, channel.id)

    report = dispatch_due()
    assert (report.failed, report.sent) == (3, 0)
    errors = {d.channel_id: d.last_error for d in _deliveries(engine)}
    for channel in (mail, hook, json_hook):
        assert errors[channel.id].startswith("blocked_host:"), errors
        assert "non-public address" in errors[channel.id]
    assert counting_listener.accepted == 0


def test_channel_secrets_are_encrypted_at_rest_masked_and_kept_out_of_logs(
    engine, session, make_user, counting_listener, caplog
):
    user = make_user()
    url = f"json://robot:hunter2-password@127.0.0.1:{counting_listener.port}/token-abcdef123456"
    counting_listener_url = url
    view = notify.add_channel(session, user.id, name="Hook", kind="apprise", url=counting_listener_url)
    other = make_user()  # no rule: its channel is stored, never used
    hook = notify.add_channel(
        session, other.id, name="Signed", kind="webhook", url="https://hooks.example.com/x", secret="sig-" + "k" * 20
    )
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT url_encrypted, masked_url, secret_encrypted FROM notification_channels"))
        text = repr(stored.all())
    assert "hunter2" not in text and "token-abcdef" not in text and "kkkkkkkk" not in text
    assert view.masked_url == f"json://127.0.0.1:{counting_listener.port}/****" and hook.masked_url.endswith("/****")

    notify.put_rule(session, user.id)
    completed_run(session, user.id, THREE_JOBS)
    caplog.set_level(logging.DEBUG)
    dispatch_due()  # the listener closes the connection: the delivery fails and is logged
    failure = _deliveries(engine)[0]
    assert failure.state == "pending" and failure.last_error
    logged = caplog.text + failure.last_error
    assert "hunter2" not in logged and "token-abcdef123456" not in logged


def test_bad_channels_are_refused_with_a_clear_message(session, make_user):
    import pytest

    user = make_user()
    for kwargs, words in [
        ({"kind": "apprise", "url": "nonsense://what"}, "Apprise does not understand"),
        ({"kind": "apprise", "url": "syslog://"}, "syslog notifications are not supported here"),
        ({"kind": "apprise", "url": "irc://bot@irc.example.com/chan"}, "irc notifications are not supported"),
        ({"kind": "webhook", "url": "ftp://example.com/x", "secret": "x" * 20}, "http:// or https://"),
        ({"kind": "webhook", "url": "https://example.com/x", "secret": "short"}, "signing secret of 16"),
        ({"kind": "webhook", "url": "https://u:p@example.com/x", "secret": "x" * 20}, "no credentials"),
        ({"kind": "carrier-pigeon", "url": "https://example.com"}, "apprise or webhook"),
    ]:
        with pytest.raises(notify.NotifyError, match=words):
            notify.add_channel(session, user.id, name="x", **kwargs)
    assert notify.list_channels(session, user.id) == []


def test_daily_due_is_the_latest_local_hour(session):
    berlin_winter = datetime(2026, 1, 10, 7, 59, tzinfo=timezone.utc)  # 08:59 CET
    assert daily_due(9, "Europe/Berlin", berlin_winter) == datetime(2026, 1, 9, 8, 0, tzinfo=timezone.utc)
    assert daily_due(9, "Europe/Berlin", berlin_winter + timedelta(minutes=1)) == datetime(
        2026, 1, 10, 8, 0, tzinfo=timezone.utc
    )
    summer = datetime(2026, 7, 10, 7, 0, tzinfo=timezone.utc)  # 09:00 CEST
    assert daily_due(9, "Europe/Berlin", summer) == summer
