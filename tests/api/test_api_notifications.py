"""Notification channels, rules, "send test" and delivery outcomes over HTTP: secrets never come
back; the test message is sent by the worker's dispatch, not by the request."""

from __future__ import annotations

from ingest_app.core.notify.dispatch import dispatch_due
from tests.support.receivers import smtp_server  # noqa: F401  (a local SMTP server)


def test_channels_keep_their_secrets_and_send_test_goes_through_the_worker(client, alice, bob, smtp_server):  # noqa: F811
    _, h = alice
    r = client.post("/api/notifications/channels", json={"name": "Inbox", "url": smtp_server.url()}, headers=h)
    assert r.status_code == 201, r.text
    channel = r.json()
    assert channel["kind"] == "apprise" and channel["masked_url"] == f"mailto://127.0.0.1:{smtp_server.port}/****"
    r = client.post(
        "/api/notifications/channels",
        json={"name": "Automation", "kind": "webhook", "url": "https://hooks.example.com/in", "secret": "w" * 24},
        headers=h,
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/notifications/channels",
        json={"name": "Relay", "url": "json://relay:app-pass-4242@relay.example.com/t0ken-in-path"},
        headers=h,
    )
    assert r.status_code == 201 and r.json()["masked_url"] == "json://relay.example.com/****", r.text
    listed = client.get("/api/notifications/channels", headers=h)
    assert [c["name"] for c in listed.json()] == ["Inbox", "Automation", "Relay"]
    assert "t0ken-in-path" not in listed.text
    assert "app-pass-4242" not in listed.text and "wwwwwwww" not in listed.text and "secret" not in listed.text

    r = client.post(f"/api/notifications/channels/{channel['id']}/test", headers=h)
    assert r.status_code == 202 and r.json()["state"] == "pending"
    assert smtp_server.messages == []  # the request sent nothing
    assert dispatch_due().sent == 1
    assert smtp_server.messages[0]["Subject"] == "Test notification from Job ingestion"
    listed = client.get("/api/notifications/channels", headers=h).json()
    assert listed[0]["last_state"] == "sent" and listed[0]["last_error"] is None
    [delivery] = client.get("/api/notifications/deliveries", headers=h).json()
    assert (delivery["kind"], delivery["state"], delivery["channel_name"]) == ("test", "sent", "Inbox")

    # Bob sees none of it and cannot test or delete Alice's channel.
    _, bob_h = bob
    assert client.get("/api/notifications/channels", headers=bob_h).json() == []
    assert client.post(f"/api/notifications/channels/{channel['id']}/test", headers=bob_h).status_code == 404
    assert client.delete(f"/api/notifications/channels/{channel['id']}", headers=bob_h).status_code == 404
    assert client.delete(f"/api/notifications/channels/{channel['id']}", headers=h).status_code == 204
    assert [c["name"] for c in client.get("/api/notifications/channels", headers=h).json()] == ["Automation", "Relay"]


def test_bad_channels_and_rules_are_422_with_the_reason(client, alice):
    _, h = alice
    for body, words in [
        ({"name": "x", "url": "nonsense://what"}, "Apprise does not understand"),
        ({"name": "x", "kind": "webhook", "url": "https://example.com/h"}, "signing secret"),
        ({"name": "x", "kind": "webhook", "url": "gopher://example.com", "secret": "s" * 20}, "http:// or https://"),
        ({"name": "", "url": "json://example.com"}, "name"),
    ]:
        r = client.post("/api/notifications/channels", json=body, headers=h)
        assert r.status_code == 422 and words in r.text, (body, r.text)
    for body, words in [
        ({"mode": "hourly"}, "mode"),
        ({"daily_hour": 24}, "daily_hour"),
        ({"timezone": "Nowhere/Land"}, "Unknown timezone"),
        ({"title_keywords": ["x" * 101]}, "title_keywords"),
    ]:
        r = client.put("/api/notifications/rules", json=body, headers=h)
        assert r.status_code == 422 and words in r.text, (body, r.text)


def test_rules_round_trip(client, alice):
    _, h = alice
    assert client.get("/api/notifications/rules", headers=h).json()["configured"] is False
    body = {
        "mode": "daily",
        "daily_hour": 7,
        "timezone": "America/Chicago",
        "include_reopened": True,
        "title_keywords": ["python", " Python ", "rust"],
        "locations": ["remote"],
        "companies": ["Acme"],
        "remote_only": True,
    }
    r = client.put("/api/notifications/rules", json=body, headers=h)
    assert r.status_code == 200, r.text
    rule = client.get("/api/notifications/rules", headers=h).json()
    assert rule["configured"] and rule["mode"] == "daily" and rule["daily_hour"] == 7
    assert rule["title_keywords"] == ["python", "Python", "rust"] and rule["remote_only"] is True
