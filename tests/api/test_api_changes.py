"""`GET /api/ingest/runs/{run_id}/changes` and the change summary in the history, over HTTP."""

from __future__ import annotations

from ingest_app.core.pipeline import record_item_result
from tests.support.runs import add_archived_job, posting, seed_run


def _finished_run(session, user) -> int:
    back = "https://jobs.example.com/acme/back"
    add_archived_job(session, user.id, back)
    urls = [back, "https://jobs.example.com/acme/a", "https://jobs.example.com/acme/b"]
    run_id, item_ids = seed_run(session, user.id, urls)
    for item_id, url in zip(item_ids, urls, strict=True):
        assert record_item_result(run_id, item_id, posting=posting(url), error=None)
    return run_id


def test_changes_of_my_run_with_summary_and_kind_filter(client, alice, session):
    user, h = alice
    run_id = _finished_run(session, user)

    r = client.get(f"/api/ingest/runs/{run_id}/changes", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["summary"]["text"] == "+2 new · 1 reopened · 1 changed"
    assert {c["kind"] for c in body["changes"]} == {"new", "reopened", "changed"}
    changed = next(c for c in body["changes"] if c["kind"] == "changed")
    assert changed["before"]["title"] == "Old title" and changed["after"]["title"] == "Engineer"
    assert changed["after"]["location"] == "Remote" and changed["before"]["location"] is None

    only_new = client.get(f"/api/ingest/runs/{run_id}/changes?kind=new", headers=h).json()
    assert [c["source_url"].rsplit("/", 1)[1] for c in only_new["changes"]] == ["a", "b"]
    assert all(c["first_seen_at"] and c["open_days"] == 0 for c in only_new["changes"])

    history = client.get("/api/ingest/history", headers=h).json()
    assert history[0]["run_id"] == run_id and history[0]["changes"]["new"] == 2


def test_changes_of_another_users_run_are_404_and_bad_kinds_422(client, alice, bob, session):
    user, _ = alice
    run_id = _finished_run(session, user)
    _, bob_headers = bob
    assert client.get(f"/api/ingest/runs/{run_id}/changes", headers=bob_headers).status_code == 404
    _, h = alice
    r = client.get(f"/api/ingest/runs/{run_id}/changes?kind=vanished", headers=h)
    assert r.status_code == 422
    assert client.get(f"/api/ingest/runs/{run_id}/changes").status_code == 401
