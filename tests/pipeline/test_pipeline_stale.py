"""The stale-run detector on PostgreSQL: retry only pending items, fail after the last retry,
complete runs whose items all finished, and act once when two detectors run at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from ingest_app.core.models import IngestionRun, utcnow
from ingest_app.core.pipeline import detect_stale_runs, record_item_result
from tests.support.fleet import CollectingSend
from tests.support.runs import posting, run_row, seed_run

RUNS = IngestionRun.__table__
URLS = [f"https://jobs.example.com/acme/{i}" for i in range(5)]


def _age_heartbeat(engine, run_id: int, minutes: float = 20) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(RUNS).where(RUNS.c.run_id == run_id).values(last_heartbeat=utcnow() - timedelta(minutes=minutes))
        )


def _stale_run_with_two_done(engine, session, user_id: int) -> tuple[int, list[int]]:
    run_id, item_ids = seed_run(session, user_id, URLS)
    assert record_item_result(run_id, item_ids[0], posting=posting(URLS[0]), error=None)
    assert record_item_result(run_id, item_ids[1], posting=None, error="gone: HTTP 410")
    _age_heartbeat(engine, run_id)
    return run_id, item_ids


def test_an_old_heartbeat_triggers_a_retry_that_resends_only_pending_items(engine, session, make_user, sent):
    user = make_user()
    run_id, item_ids = _stale_run_with_two_done(engine, session, user.id)
    before = utcnow()

    reports = detect_stale_runs(send=sent)

    assert [(r["run_id"], r["action"], r["resent"]) for r in reports] == [(run_id, "retried", 3)]
    assert sorted(sent.item_ids) == sorted(item_ids[2:])
    assert {b["url"] for b in sent.bodies} == set(URLS[2:])
    assert all(b["run_id"] == run_id and b["company"] == "Acme" for b in sent.bodies)
    run = run_row(engine, run_id)
    assert run.status == "ingesting" and run.retry_count == 1 and run.last_heartbeat >= before
    # A fresh heartbeat is not stale: a second check right away does nothing.
    assert detect_stale_runs(send=sent) == [] and len(sent.bodies) == 3


def test_the_fourth_stale_detection_fails_the_run_naming_unfinished_items(engine, session, make_user, sent):
    user = make_user()
    run_id, _ = _stale_run_with_two_done(engine, session, user.id)
    now = utcnow()
    actions = []
    for i in range(4):
        reports = detect_stale_runs(now + timedelta(minutes=20 * i), send=sent)
        actions.append(reports[0]["action"])

    assert actions == ["retried", "retried", "retried", "failed"]
    assert len(sent.bodies) == 9  # 3 pending items, re-sent on each of the 3 retries
    run = run_row(engine, run_id)
    assert (run.status, run.current_stage, run.retry_count) == ("failed", 5, 3)
    assert run.completed_at is not None
    assert "3 of 5 items never finished" in run.error_message
    assert (run.jobs_processed, run.jobs_added, run.jobs_failed) == (2, 1, 1)
    assert detect_stale_runs(now + timedelta(hours=5), send=sent) == []


def test_two_detectors_at_once_retry_a_run_once(engine, session, make_user):
    user = make_user()
    run_id, item_ids = _stale_run_with_two_done(engine, session, user.id)
    send = CollectingSend()
    barrier = threading.Barrier(2)
    reports: list[dict] = []

    def detect() -> None:
        barrier.wait()
        reports.extend(detect_stale_runs(send=send))

    threads = [threading.Thread(target=detect) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert [r["action"] for r in reports] == ["retried"]
    assert sorted(send.item_ids) == sorted(item_ids[2:])
    assert run_row(engine, run_id).retry_count == 1


def test_a_stale_run_whose_items_all_finished_is_completed(engine, session, make_user, sent):
    user = make_user()
    run_id, item_ids = seed_run(session, user.id, URLS[:2])
    items = IngestionRun.metadata.tables["ingestion_run_items"]
    with engine.begin() as conn:  # the last worker committed its item but its completion was lost
        conn.execute(sa.update(items).where(items.c.run_id == run_id).values(state="succeeded"))
        conn.execute(sa.update(RUNS).where(RUNS.c.run_id == run_id).values(jobs_processed=1))
    _age_heartbeat(engine, run_id)

    reports = detect_stale_runs(send=sent)

    assert [r["action"] for r in reports] == ["completed"]
    assert sent.bodies == []
    run = run_row(engine, run_id)
    assert run.status == "completed" and run.completed_at is not None and run.current_stage == 5


def test_a_send_failure_during_a_retry_fails_the_run_with_the_reason(engine, session, make_user):
    user = make_user()
    run_id, _ = _stale_run_with_two_done(engine, session, user.id)

    detect_stale_runs(send=CollectingSend(fail=True))

    run = run_row(engine, run_id)
    assert run.status == "failed"
    assert run.error_message.startswith("Could not enqueue 3 of 3 jobs") and "queue unreachable" in run.error_message


def test_recent_and_finished_runs_are_left_alone(engine, session, make_user, sent):
    user, other = make_user(), make_user()
    seed_run(session, user.id, URLS)  # fresh heartbeat
    done, _ = seed_run(session, other.id, URLS[:1])
    with engine.begin() as conn:
        conn.execute(sa.update(RUNS).where(RUNS.c.run_id == done).values(status="completed", current_stage=5))
    _age_heartbeat(engine, done, minutes=60)

    assert detect_stale_runs(send=sent) == []
    assert sent.bodies == []
