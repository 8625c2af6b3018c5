"""End to end on PostgreSQL: demo site -> stage 3 -> real queue (ministack) -> worker process
(poller + Lambda handler) -> stage 5. Also duplicate delivery and a worker killed mid-batch."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from devtools.demo.site import DemoSite
from ingest_app.cli import main
from ingest_app.core import queue as q
from ingest_app.core.pipeline import run_stage3, start_run
from tests.support.demo import add_demo_companies, serving
from tests.support.emulator import LocalQueue, make_test_queue
from tests.support.runs import counters, item_counts, job_counts
from tests.support.settings import apply_env
from tests.support.worker import start_worker, stop_worker

pytestmark = pytest.mark.slow


def small_site() -> DemoSite:
    site = DemoSite()
    site.add_company("Northwind Labs", "greenhouse", slug="northwind", jobs=6)
    site.add_company("Juniper Health", "careers", slug="juniper", jobs=5)
    return site


def cli_ingest(email: str, capsys, timeout: float = 60) -> dict:
    """`python -m ingest_app ingest --user EMAIL --wait`, run in this process (the worker is not)."""
    capsys.readouterr()
    assert main(["ingest", "--user", email, "--wait", "--timeout", str(timeout), "--poll-interval", "0.1"]) == 0
    return json.loads(capsys.readouterr().out)


def wait_finished(engine, run_id: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = counters(engine, run_id)
        if row["status"] in ("completed", "failed"):
            return row
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish: {counters(engine, run_id)}")


def test_two_runs_through_queue_and_worker_archive_two_and_add_one(
    session, engine, make_user, crawl_queue: LocalQueue, tmp_path: Path, capsys
) -> None:
    user = make_user()
    site = small_site()
    with serving(site) as server:
        add_demo_companies(session, user.id, server)
        worker = start_worker(concurrency=2, log_path=tmp_path / "worker.log")
        try:
            first = cli_ingest(user.email, capsys)
            assert first["status"] == "completed"
            assert {k: first[k] for k in ("total_jobs_found", "jobs_processed", "jobs_added", "jobs_failed")} == {
                "total_jobs_found": 11,
                "jobs_processed": 11,
                "jobs_added": 11,
                "jobs_failed": 0,
            }
            assert first["jobs_archived"] == 0
            assert first["duration_seconds"] >= 0

            gone = site.jobs("northwind")[:2]
            for job in gone:
                site.remove_job("northwind", job.id)
            site.add_job("juniper", title="Staff Data Engineer")

            second = cli_ingest(user.email, capsys)
        finally:
            assert stop_worker(worker) == 0
    assert second["status"] == "completed"
    assert {k: second[k] for k in ("total_jobs_found", "jobs_processed", "jobs_added", "jobs_archived")} == {
        "total_jobs_found": 10,
        "jobs_processed": 10,
        "jobs_added": 1,
        "jobs_archived": 2,
    }
    assert second["jobs_failed"] == 0
    assert job_counts(engine, user.id) == {"active": 10, "archived": 2}
    assert crawl_queue.depths()["queue"]["visible"] == 0


def test_every_message_delivered_twice_through_the_queue_counts_once(
    session, engine, make_user, crawl_queue: LocalQueue, tmp_path: Path
) -> None:
    user = make_user()
    site = DemoSite()
    site.add_company("Northwind Labs", "greenhouse", slug="northwind", jobs=15)
    site.add_company("Juniper Health", "careers", slug="juniper", jobs=15)
    with serving(site) as server:
        add_demo_companies(session, user.id, server)
        run_id = start_run(session, user.id).run_id
        run_stage3(run_id, send=lambda bodies: q.send_messages([b for b in bodies for _ in (1, 2)]))
        assert crawl_queue.depths()["queue"]["visible"] == 60
        worker = start_worker(concurrency=4, log_path=tmp_path / "worker.log")
        try:
            result = wait_finished(engine, run_id)
            # Let the duplicates still queued arrive too, then check nothing moved.
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                depths = crawl_queue.depths()["queue"]
                if depths["visible"] + depths["in_flight"] == 0:
                    break
                time.sleep(0.2)
        finally:
            assert stop_worker(worker) == 0
    expected = {
        "status": "completed",
        "total_jobs_found": 30,
        "jobs_processed": 30,
        "jobs_added": 30,
        "jobs_failed": 0,
        "jobs_archived": 0,
    }
    assert result == expected
    assert counters(engine, run_id) == expected
    assert item_counts(engine, run_id) == {"succeeded": 30}
    assert job_counts(engine, user.id) == {"active": 30}


def test_a_worker_killed_mid_batch_still_ends_with_exact_counters_after_redelivery(
    sqs_emulator, session, engine, make_user, tmp_path: Path
) -> None:
    queue, previous = make_test_queue(sqs_emulator, visibility_timeout=2)
    try:
        user = make_user()
        site = DemoSite()
        site.add_company("Northwind Labs", "greenhouse", slug="northwind", jobs=20)
        site.add_company("Juniper Health", "careers", slug="juniper", jobs=20)
        with serving(site) as server:
            add_demo_companies(session, user.id, server)
            run_id = start_run(session, user.id).run_id
            run_stage3(run_id)
            site.set_latency(0.5)  # job fetches are slow: batches are in flight when the kill lands
            victim = start_worker(concurrency=2, log_path=tmp_path / "victim.log")
            deadline = time.monotonic() + 30
            while counters(engine, run_id)["jobs_processed"] == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            at_kill = counters(engine, run_id)
            assert 0 < at_kill["jobs_processed"] < 40
            left = queue.depths()["queue"]
            assert left["visible"] + left["in_flight"] > 0  # received by the victim, never deleted

            site.set_latency(0.0)
            metrics = tmp_path / "survivor.json"
            survivor = start_worker(concurrency=2, metrics_file=metrics, log_path=tmp_path / "survivor.log")
            try:
                result = wait_finished(engine, run_id)
            finally:
                assert stop_worker(survivor) == 0
    finally:
        apply_env(previous)
    assert victim.returncode == -signal.SIGKILL
    assert result == {
        "status": "completed",
        "total_jobs_found": 40,
        "jobs_processed": 40,
        "jobs_added": 40,
        "jobs_failed": 0,
        "jobs_archived": 0,
    }
    assert item_counts(engine, run_id) == {"succeeded": 40}
    assert job_counts(engine, user.id) == {"active": 40}
    survivor_stats = json.loads(metrics.read_text())
    assert survivor_stats["received"] >= 40 - at_kill["jobs_processed"]


def test_a_listed_link_that_is_not_a_job_page_ends_skipped_and_the_cli_summary_says_so(
    session, engine, make_user, page_server, crawl_queue: LocalQueue, tmp_path: Path, capsys
) -> None:
    from ingest_app.core.companies import add_company

    user = make_user()
    page_server.not_a_job.add(2)  # the careers page links it like a job; it leads to no posting
    add_company(session, user.id, name="Acme", source=f"careers:{page_server.careers_url}")
    session.commit()
    worker = start_worker(concurrency=2, log_path=tmp_path / "worker.log")
    try:
        summary = cli_ingest(user.email, capsys)
    finally:
        assert stop_worker(worker) == 0
    assert {k: v for k, v in summary.items() if k not in ("run_id", "duration_seconds")} == {
        "status": "completed",
        "total_jobs_found": 3,
        "jobs_processed": 3,
        "jobs_added": 2,
        "jobs_failed": 0,
        "jobs_skipped": 1,
        "jobs_archived": 0,
        "skipped_items": [{"url": page_server.url(2), "reason": "not a job posting"}],
    }
    assert item_counts(engine, summary["run_id"]) == {"succeeded": 2, "skipped": 1}
    assert job_counts(engine, user.id) == {"active": 2}


class CountingSite(DemoSite):
    """The demo site, counting every request it answers."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.requests: list[str] = []

    def respond(self, path, query, host, method="GET", body=None):
        self.requests.append(path)
        return super().respond(path, query, host, method, body)


def test_the_start_route_only_enqueues_and_the_worker_lists_archives_and_crawls(
    session, engine, make_user, crawl_queue: LocalQueue, tmp_path: Path
) -> None:
    from ingest_app.api.routes.ingest import start
    from ingest_app.core.pipeline.stage3 import missing_listing_messages

    user = make_user()
    site = CountingSite()
    site.add_company("Northwind Labs", "greenhouse", slug="northwind", jobs=6)
    site.add_company("Juniper Health", "careers", slug="juniper", jobs=5)
    with serving(site) as server:
        add_demo_companies(session, user.id, server)
        started = start(session, user)  # what POST /api/ingest/start runs
        run_id = started.run_id
        assert (started.status, counters(engine, run_id)["status"]) == ("archiving", "archiving")
        assert site.requests == []  # the web process fetched nothing
        q.send_messages(missing_listing_messages(run_id))  # every listing message delivered twice
        assert crawl_queue.depths()["queue"]["visible"] == 4
        worker = start_worker(concurrency=2, log_path=tmp_path / "worker.log")
        try:
            result = wait_finished(engine, run_id)
        finally:
            assert stop_worker(worker) == 0
    assert result == {
        "status": "completed",
        "total_jobs_found": 11,
        "jobs_processed": 11,
        "jobs_added": 11,
        "jobs_failed": 0,
        "jobs_archived": 0,
    }
    with engine.connect() as conn:
        listed = (
            conn.execute(sa.text("SELECT company_index FROM run_listings WHERE run_id = :r ORDER BY 1"), {"r": run_id})
            .scalars()
            .all()
        )
    assert listed == [0, 1]  # each company's listing recorded once, though delivered twice
    assert site.requests  # the worker did the listing and crawling
