"""The worker's own stale-run schedule recovers a run whose messages were lost; the operator
commands `companies add|list`, `stale-check` and `queue status` print JSON."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest

from ingest_app.cli import main
from tests.support.emulator import LocalQueue
from tests.support.pages import PageServer
from tests.support.runs import counters, seed_run
from tests.support.worker import start_worker, stop_worker


@pytest.mark.slow
def test_the_worker_schedule_re_enqueues_a_stale_run_and_it_completes(
    session, engine, make_user, page_server: PageServer, crawl_queue: LocalQueue, tmp_path: Path
) -> None:
    user = make_user()
    # Its messages never reached a worker (lost, or in the DLQ): only the detector can finish it.
    run_id, _ = seed_run(session, user.id, [page_server.url(1), page_server.url(2)], heartbeat_age=timedelta(hours=1))
    worker = start_worker(stale_interval=1, log_path=tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 60
        while counters(engine, run_id)["status"] != "completed" and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        assert stop_worker(worker) == 0
    assert counters(engine, run_id) == {
        "status": "completed",
        "total_jobs_found": 2,
        "jobs_processed": 2,
        "jobs_added": 2,
        "jobs_failed": 0,
        "jobs_archived": 0,
    }
    with engine.connect() as conn:
        from sqlalchemy import text

        assert (
            conn.execute(text("SELECT retry_count FROM ingestion_runs WHERE run_id = :r"), {"r": run_id}).scalar() == 1
        )


def test_companies_add_and_list_print_json(make_user, capsys) -> None:
    user = make_user()
    assert main(["companies", "add", "--user", user.email, "--name", "Acme", "--source", "greenhouse:acme"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["name"] == "Acme" and added["source"] == "greenhouse:acme" and added["enabled"] is True
    assert main(["companies", "list", "--user", user.email]) == 0
    assert json.loads(capsys.readouterr().out) == [added]


def test_companies_add_refuses_a_bad_source_and_an_unknown_user(make_user, capsys) -> None:
    user = make_user()
    assert main(["companies", "add", "--user", user.email, "--name", "Acme", "--source", "monster:acme"]) == 1
    assert "Source must look like" in capsys.readouterr().err
    assert main(["companies", "list", "--user", "nobody@example.com"]) == 1
    assert "no user" in capsys.readouterr().err


def test_stale_check_completes_a_stale_run_whose_items_all_finished(session, engine, make_user, capsys) -> None:
    user = make_user()
    run_id, _ = seed_run(session, user.id, ["http://127.0.0.1:9/jobs/1"], heartbeat_age=timedelta(hours=1))
    with engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(
            text("UPDATE ingestion_run_items SET state = 'failed', error = 'x' WHERE run_id = :r"), {"r": run_id}
        )
    assert main(["stale-check"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["count"] == 1
    assert printed["actions"][0]["run_id"] == run_id
    assert counters(engine, run_id)["status"] == "completed"


def test_queue_status_prints_the_depths_of_queue_and_dlq(crawl_queue: LocalQueue, capsys) -> None:
    from ingest_app.core.queue import send_messages

    send_messages([{"run_id": 1, "item_id": 1, "url": "u"}] * 3)
    assert main(["queue", "status"]) == 0
    depths = json.loads(capsys.readouterr().out)
    assert depths["queue"]["name"] == crawl_queue.name and depths["queue"]["visible"] == 3
    assert depths["dlq"]["visible"] == 0


def test_queue_up_starts_an_emulator_on_a_silent_loopback_endpoint_and_queue_down_stops_it(
    tmp_path: Path, capsys
) -> None:
    from devtools.emulator import _alive, endpoint_answers, free_port
    from tests.support.settings import override_settings

    endpoint = f"http://127.0.0.1:{free_port()}"
    env = {
        "SQS_ENDPOINT_URL": endpoint,
        "DATA_DIR": str(tmp_path),
        "CRAWL_QUEUE_NAME": "up-test",
        "CRAWL_QUEUE_URL": None,
    }
    with override_settings(env):
        assert main(["queue", "up"]) == 0
        up = json.loads(capsys.readouterr().out)
        try:
            assert up["emulator_started"] is True
            assert up["queue_url"] == f"{endpoint}/000000000000/up-test"
            assert endpoint_answers(endpoint)
            assert main(["queue", "up"]) == 0  # already answering: nothing new started
            assert json.loads(capsys.readouterr().out)["emulator_started"] is False
        finally:
            assert main(["queue", "down"]) == 0
        down = json.loads(capsys.readouterr().out)
    assert down == {"stopped": True, "pid": up["emulator_pid"]}
    assert not _alive(up["emulator_pid"])
    assert not endpoint_answers(endpoint)
