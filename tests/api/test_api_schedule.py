"""`GET/PUT /api/schedule` over HTTP: presets and cron, timezone, pause; next_run_at; 422s."""

from __future__ import annotations

from datetime import datetime, timezone


def test_no_schedule_until_one_is_saved_then_preset_cron_and_pause(client, alice):
    _, h = alice
    r = client.get("/api/schedule", headers=h)
    assert r.status_code == 200 and r.json()["configured"] is False and r.json()["next_run_at"] is None

    r = client.put(
        "/api/schedule",
        json={"preset": {"kind": "weekdays", "time": "08:15"}, "timezone": "Europe/Berlin"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["cron"], body["description"]) == ("15 8 * * 1-5", "At 08:15 AM, Monday through Friday")
    assert body["preset"] == {"kind": "weekdays", "time": "08:15"}
    next_run = datetime.fromisoformat(body["next_run_at"])
    assert next_run > datetime.now(timezone.utc) and next_run.weekday() < 5
    assert client.get("/api/schedule", headers=h).json()["next_run_at"] == body["next_run_at"]

    r = client.put("/api/schedule", json={"cron": "0  */4 * * *", "timezone": "UTC"}, headers=h)
    assert (r.json()["cron"], r.json()["description"]) == ("0 */4 * * *", "Every 4 hours")

    r = client.put("/api/schedule", json={"cron": "0 */4 * * *", "timezone": "UTC", "enabled": False}, headers=h)
    assert r.json()["enabled"] is False and r.json()["next_run_at"] is None


def test_bad_schedules_are_422_with_the_reason(client, alice, bob):
    _, h = alice
    for body, words in [
        ({"cron": "0 9 * *"}, "5 fields"),
        ({"cron": "0 9 * * *", "timezone": "Atlantis/Capital"}, "Unknown timezone"),
        ({"preset": {"kind": "daily", "time": "24:00"}}, "between 00:00 and 23:59"),
        ({"cron": "0 9 * * *", "preset": {"kind": "hourly"}}, "either a cron expression or a preset"),
        ({"preset": {"kind": "monthly"}}, "kind"),
    ]:
        r = client.put("/api/schedule", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        assert words in r.text, (body, r.text)
    assert client.get("/api/schedule", headers=h).json()["configured"] is False
    assert client.put("/api/schedule", json={"preset": {"kind": "hourly"}}).status_code == 401
    _, bob_h = bob
    client.put("/api/schedule", json={"preset": {"kind": "hourly"}}, headers=bob_h)
    assert client.get("/api/schedule", headers=h).json()["configured"] is False  # bob's is his own
