"""Ingestion runs over HTTP: start (202), progress, history, reset, active; ownership and limits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ingest_app.core.models import IngestionRun, IngestionRunItem

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def make_run(session):
    """Insert a run row directly: make_run(user, status=..., **columns) -> run_id."""

    def _make(user, status: str = "ingesting", **columns) -> int:
        finished = status in ("completed", "failed")
        values = {
            "current_stage": 5 if finished else (4 if status == "ingesting" else 3),
            "companies": [{"company_id": 1, "name": "Acme", "source": "greenhouse:acme"}],
            "created_at": T0,
            "started_at": T0,
            "completed_at": T0 + timedelta(seconds=90) if finished else None,
            **columns,
        }
        run = IngestionRun(user_id=user.id, status=status, **values)
        session.add(run)
        session.commit()
        return run.run_id

    return _make


def _company(client, headers, name: str, source: str, enabled: bool = True) -> int:
    r = client.post("/api/companies", json={"name": name, "source": source, "enabled": enabled}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


# --- start ----------------------------------------------------------------------------------


def test_start_answers_202_at_once_and_stage_3_runs_in_the_background(client, alice, fake_greenhouse, join_stage3):
    _, h = alice
    fake_greenhouse["quiet"] = []  # lists nothing: the run completes without sending a message
    _company(client, h, "Quiet", "greenhouse:quiet")
    _company(client, h, "Gone", "greenhouse:gone")  # 404: recorded on the run, nothing archived
    _company(client, h, "Paused", "greenhouse:paused", enabled=False)

    r = client.post("/api/ingest/start", headers=h)
    assert r.status_code == 202, r.text
    started = r.json()
    assert started["status"] == "archiving" and started["current_stage"] == 3
    join_stage3(started["run_id"])

    progress = client.get(f"/api/ingest/runs/{started['run_id']}/progress", headers=h).json()
    assert progress["status"] == "completed" and progress["current_stage"] == 5
    assert progress["total_jobs_found"] == 0 and progress["percent"] == 100.0
    by_name = {c["name"]: c for c in progress["companies"]}
    assert set(by_name) == {"Quiet", "Gone"}  # the disabled company is not part of the run
    assert by_name["Gone"]["error"] and not by_name["Quiet"]["error"]


@pytest.mark.parametrize("body", [None, {}, {"company_ids": None}])
def test_start_without_ids_takes_the_enabled_companies(client, alice, fake_greenhouse, join_stage3, body):
    _, h = alice
    fake_greenhouse["quiet"] = []
    _company(client, h, "Quiet", "greenhouse:quiet")
    r = client.post("/api/ingest/start", headers=h, **({} if body is None else {"json": body}))
    assert r.status_code == 202, r.text
    join_stage3(r.json()["run_id"])


def test_start_with_chosen_companies(client, alice, fake_greenhouse, join_stage3):
    _, h = alice
    fake_greenhouse["quiet"] = []
    chosen = _company(client, h, "Quiet", "greenhouse:quiet")
    _company(client, h, "Other", "greenhouse:other")
    r = client.post("/api/ingest/start", json={"company_ids": [chosen]}, headers=h)
    assert r.status_code == 202, r.text
    run_id = r.json()["run_id"]
    join_stage3(run_id)
    progress = client.get(f"/api/ingest/runs/{run_id}/progress", headers=h).json()
    assert [c["name"] for c in progress["companies"]] == ["Quiet"]


def test_start_without_companies_is_422(client, alice):
    _, h = alice
    r = client.post("/api/ingest/start", headers=h)
    assert r.status_code == 422 and "at least one company" in r.json()["detail"]
    _company(client, h, "Paused", "greenhouse:paused", enabled=False)
    assert client.post("/api/ingest/start", headers=h).status_code == 422
    r = client.post("/api/ingest/start", json={"company_ids": []}, headers=h)
    assert r.status_code == 422 and "at least one company" in r.json()["detail"]


def test_start_with_another_users_company_is_refused_without_confirming_it(client, alice, bob):
    theirs = _company(client, bob[1], "Bob's", "greenhouse:bobs")
    r = client.post("/api/ingest/start", json={"company_ids": [theirs]}, headers=alice[1])
    assert r.status_code == 422
    assert r.json()["detail"] == f"Unknown company id(s): {theirs}"
    assert client.get("/api/ingest/active", headers=bob[1]).json() is None


@pytest.mark.parametrize(
    "body",
    [
        {"company_ids": [0]},
        {"company_ids": [-3]},
        {"company_ids": [2**31]},
        {"company_ids": ["a"]},
        {"company_ids": 5},
        {"company_ids": list(range(1, 1002))},
        [1, 2],
    ],
)
def test_start_with_malformed_ids_is_422(client, alice, body):
    r = client.post("/api/ingest/start", json=body, headers=alice[1])
    assert r.status_code == 422 and isinstance(r.json()["detail"], list)


def test_start_while_a_run_is_active_is_409(client, alice, make_run):
    user, h = alice
    _company(client, h, "Acme", "greenhouse:acme")
    make_run(user, status="ingesting")
    r = client.post("/api/ingest/start", headers=h)
    assert r.status_code == 409 and r.json() == {"detail": "An ingestion run is already in progress"}


# --- progress -------------------------------------------------------------------------------


def test_progress_of_my_run(client, alice, make_run, session):
    user, h = alice
    run_id = make_run(
        user, status="ingesting", total_jobs_found=8, jobs_processed=4, jobs_added=3, jobs_failed=1, jobs_archived=2
    )
    session.add(
        IngestionRunItem(
            run_id=run_id, company="Acme", url="https://a.example/j/1", state="failed", error="http_404: gone"
        )
    )
    session.commit()
    r = client.get(f"/api/ingest/runs/{run_id}/progress", headers=h)
    assert r.status_code == 200, r.text
    p = r.json()
    assert (p["status"], p["current_stage"], p["percent"]) == ("ingesting", 4, 50.0)
    assert (p["total_jobs_found"], p["jobs_processed"], p["jobs_added"], p["jobs_failed"], p["jobs_archived"]) == (
        8,
        4,
        3,
        1,
        2,
    )
    assert p["elapsed_seconds"] > 0 and p["error_message"] is None
    assert p["companies"][0]["name"] == "Acme"
    assert p["failed_items"] == [{"url": "https://a.example/j/1", "company": "Acme", "error": "http_404: gone"}]


def test_progress_and_history_show_a_page_that_is_not_a_job_as_skipped_not_failed(client, alice, session, page_server):
    from ingest_app.core.pipeline import process_items
    from tests.support.runs import item_bodies, seed_run

    user, h = alice
    urls = [page_server.url(1), page_server.not_a_job_url(2), page_server.base_url + "/gone/3"]
    run_id, _ = seed_run(session, user.id, urls)
    bodies = item_bodies(session, run_id)
    assert [outcome for outcome, _ in process_items(bodies + bodies)] == ["succeeded", "not_a_job", "failed"] + [
        "skipped"
    ] * 3

    r = client.get(f"/api/ingest/runs/{run_id}/progress", headers=h)
    assert r.status_code == 200, r.text
    p = r.json()
    assert (p["status"], p["percent"]) == ("completed", 100.0)
    assert (p["jobs_processed"], p["jobs_added"], p["jobs_failed"], p["jobs_skipped"]) == (3, 1, 1, 1)
    assert [i["url"] for i in p["failed_items"]] == [page_server.base_url + "/gone/3"]
    assert p["skipped_items"] == [
        {
            "url": page_server.not_a_job_url(2),
            "company": "Acme",
            "reason": "not a job posting",
            "detail": "not_a_job_page: no job posting found on the page",
        }
    ]
    [entry] = client.get("/api/ingest/history", headers=h).json()
    assert (entry["run_id"], entry["jobs_failed"], entry["jobs_skipped"]) == (run_id, 1, 1)


def test_progress_shows_the_listing_cut_of_a_company(client, alice, make_run):
    user, h = alice
    cut_reason = "3 of 5 listed job URLs not crawled: a run crawls at most 2 job URLs"
    company = {"company_id": 1, "name": "Acme", "source": "greenhouse:acme", "listed": 5, "archived": 0}
    run_id = make_run(user, status="completed", companies=[{**company, "cut": 3, "cut_reason": cut_reason}])
    p = client.get(f"/api/ingest/runs/{run_id}/progress", headers=h).json()
    assert (p["companies"][0]["cut"], p["companies"][0]["cut_reason"]) == (3, cut_reason)
    assert p["jobs_skipped"] == 0 and p["skipped_items"] == []


def test_another_users_run_is_404_like_a_missing_one(client, alice, bob, make_run):
    run_id = make_run(alice[0])
    for rid in (run_id, 987654):
        r = client.get(f"/api/ingest/runs/{rid}/progress", headers=bob[1])
        assert r.status_code == 404 and r.json() == {"detail": f"Run {rid} not found"}
        r = client.post(f"/api/ingest/runs/{rid}/reset", headers=bob[1])
        assert r.status_code == 404 and r.json() == {"detail": f"Run {rid} not found"}
    assert client.get(f"/api/ingest/runs/{run_id}/progress", headers=alice[1]).json()["status"] == "ingesting"


@pytest.mark.parametrize("run_id", ["0", "-1", "2147483648", "9" * 40, "x", "1e3"])
def test_absurd_run_ids_are_422(client, alice, run_id):
    assert client.get(f"/api/ingest/runs/{run_id}/progress", headers=alice[1]).status_code == 422
    assert client.post(f"/api/ingest/runs/{run_id}/reset", headers=alice[1]).status_code == 422


# --- history --------------------------------------------------------------------------------


def test_history_lists_finished_runs_newest_first(client, alice, bob, make_run):
    user, h = alice
    old = make_run(user, status="completed", created_at=T0, jobs_added=5, total_jobs_found=5, jobs_processed=5)
    new = make_run(user, status="failed", created_at=T0 + timedelta(days=1), error_message="Reset by user")
    make_run(user, status="ingesting", created_at=T0 + timedelta(days=2))
    make_run(bob[0], status="completed")
    r = client.get("/api/ingest/history", headers=h)
    assert r.status_code == 200, r.text
    runs = r.json()
    assert [x["run_id"] for x in runs] == [new, old]
    assert runs[0]["status"] == "failed" and runs[0]["error_message"] == "Reset by user"
    assert runs[1]["jobs_added"] == 5 and runs[1]["duration_seconds"] == 90.0
    assert runs[1]["companies"] == ["Acme"]
    assert [x["run_id"] for x in client.get("/api/ingest/history?limit=1", headers=h).json()] == [new]


def test_history_limit_defaults_to_10_and_allows_100(client, alice, make_run):
    user, h = alice
    for i in range(12):
        make_run(user, status="completed", created_at=T0 + timedelta(minutes=i))
    assert len(client.get("/api/ingest/history", headers=h).json()) == 10
    assert len(client.get("/api/ingest/history?limit=100", headers=h).json()) == 12


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1" * 30, ""])
def test_history_limit_out_of_range_is_422(client, alice, limit):
    r = client.get(f"/api/ingest/history?limit={limit}", headers=alice[1])
    assert r.status_code == 422


# --- reset and the active run ---------------------------------------------------------------


@pytest.mark.parametrize("status", ["archiving", "ingesting"])
def test_reset_aborts_my_active_run(client, alice, make_run, status):
    user, h = alice
    run_id = make_run(user, status=status)
    assert client.get("/api/ingest/active", headers=h).json()["run_id"] == run_id
    r = client.post(f"/api/ingest/runs/{run_id}/reset", headers=h)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"message"} and str(run_id) in r.json()["message"]
    progress = client.get(f"/api/ingest/runs/{run_id}/progress", headers=h).json()
    assert progress["status"] == "failed" and progress["error_message"]
    assert client.get("/api/ingest/active", headers=h).json() is None
    again = client.post(f"/api/ingest/runs/{run_id}/reset", headers=h)
    assert again.status_code == 409 and "only an active run" in again.json()["detail"]


def test_reset_of_a_completed_run_is_409(client, alice, make_run):
    user, h = alice
    run_id = make_run(user, status="completed")
    r = client.post(f"/api/ingest/runs/{run_id}/reset", headers=h)
    assert r.status_code == 409
    assert client.get(f"/api/ingest/runs/{run_id}/progress", headers=h).json()["status"] == "completed"


def test_active_is_null_without_a_run_and_ignores_other_users(client, alice, bob, make_run):
    make_run(bob[0], status="ingesting")
    make_run(alice[0], status="completed")
    r = client.get("/api/ingest/active", headers=alice[1])
    assert r.status_code == 200 and r.json() is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/ingest/start"),
        ("get", "/api/ingest/runs/1/progress"),
        ("get", "/api/ingest/history"),
        ("post", "/api/ingest/runs/1/reset"),
        ("get", "/api/ingest/active"),
    ],
)
def test_ingest_routes_require_a_token(client, method, path):
    r = client.request(method, path)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
