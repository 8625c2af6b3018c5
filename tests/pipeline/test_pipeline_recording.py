"""Invariants 1, 2 and 4 on PostgreSQL: exact counting under duplicate and concurrent delivery,
completion exactly once, nothing changes after a reset."""

from __future__ import annotations

import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from ingest_app.core.models import IngestionRunItem
from ingest_app.core.pipeline import RunNotActive, record_item_result, reset_run
from tests.support.runs import add_archived_job, item_states, jobs_of, posting, run_row, seed_run
from tests.support.settings import override_settings

URL = "https://jobs.example.com/acme/{}"


def _record(run_id: int, item_id: int, url: str, fail: bool) -> bool:
    if fail:
        return record_item_result(run_id, item_id, posting=None, error="not_found: HTTP 404")
    return record_item_result(run_id, item_id, posting=posting(url), error=None)


def test_every_message_delivered_twice_concurrently_counts_exactly(engine, session, make_user):
    user = make_user()
    urls = [URL.format(i) for i in range(40)]
    run_id, item_ids = seed_run(session, user.id, urls)
    failing = set(item_ids[::4])  # 10 of 40 fail
    deliveries = [(item_id, url) for item_id, url in zip(item_ids, urls, strict=True)] * 2
    random.Random(7).shuffle(deliveries)

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda d: _record(run_id, d[0], d[1], d[0] in failing), deliveries))

    assert results.count(True) == 40  # each item recorded once; its duplicate was a no-op
    run = run_row(engine, run_id)
    assert (run.jobs_processed, run.jobs_added, run.jobs_failed) == (40, 30, 10)
    assert run.status == "completed" and run.current_stage == 5 and run.completed_at is not None
    jobs = jobs_of(engine, user.id)
    assert len(jobs) == 30 and len({j.source_url for j in jobs}) == 30
    assert all(j.last_run_id == run_id and j.status == "active" for j in jobs)
    with engine.connect() as conn:
        attempts = conn.execute(sa.select(IngestionRunItem.__table__.c.attempts)).scalars().all()
    assert attempts == [1] * 40
    states = item_states(engine, run_id)
    assert sum(1 for s, e in states.values() if s == "failed" and e == "not_found: HTTP 404") == 10


def test_32_workers_finishing_the_last_items_at_once_complete_the_run_once(engine, session, make_user, caplog):
    from ingest_app.core.db import dispose_engines

    with override_settings(DB_MAX_OVERFLOW=40):  # 32 truly concurrent transactions
        dispose_engines()
        user = make_user()
        urls = [URL.format(i) for i in range(32)]
        run_id, item_ids = seed_run(session, user.id, urls)
        barrier = threading.Barrier(32)

        def finish(args: tuple[int, str]) -> bool:
            barrier.wait()
            return _record(run_id, args[0], args[1], fail=args[0] % 5 == 0)

        caplog.set_level(logging.INFO, logger="ingest_app.core.pipeline.record")
        try:
            with ThreadPoolExecutor(max_workers=32) as pool:
                results = list(pool.map(finish, zip(item_ids, urls, strict=True)))
        finally:
            dispose_engines()

    assert all(results)
    completions = [r for r in caplog.records if r.getMessage() == f"run {run_id} completed"]
    assert len(completions) == 1
    run = run_row(engine, run_id)
    assert run.status == "completed" and run.jobs_processed == 32
    # completed_at was written by the transaction that recorded the last item, after every other
    with engine.connect() as conn:
        last_finished = conn.execute(sa.select(sa.func.max(IngestionRunItem.__table__.c.finished_at))).scalar_one()
    assert run.completed_at >= last_finished


def test_archived_job_that_reappears_is_reactivated_and_not_counted_as_added(engine, session, make_user):
    user = make_user()
    old, new = URL.format(1), URL.format(2)
    first_seen = add_archived_job(session, user.id, old)
    run_id, (old_item, new_item) = seed_run(session, user.id, [old, new])

    assert _record(run_id, old_item, old, fail=False)
    assert _record(run_id, new_item, new, fail=False)

    run = run_row(engine, run_id)
    assert (run.jobs_added, run.jobs_processed, run.status) == (1, 2, "completed")
    jobs = {j.source_url: j for j in jobs_of(engine, user.id)}
    assert jobs[old].status == "active" and jobs[old].archived_at is None
    assert jobs[old].title == "Engineer" and jobs[old].first_seen_at == first_seen
    assert jobs[old].last_seen_at > first_seen and jobs[old].last_run_id == run_id


def test_results_for_a_run_that_is_not_ingesting_change_nothing(engine, session, make_user):
    user = make_user()
    run_id, item_ids = seed_run(session, user.id, [URL.format(1), URL.format(2)])
    assert reset_run(session, user.id, run_id).status == "failed"

    assert not _record(run_id, item_ids[0], URL.format(1), fail=False)
    assert not _record(run_id, item_ids[1], URL.format(2), fail=True)
    assert not _record(run_id, 10_000, URL.format(3), fail=False)  # unknown item

    run = run_row(engine, run_id)
    assert (run.jobs_processed, run.jobs_added, run.jobs_failed) == (0, 0, 0)
    assert set(s for s, _ in item_states(engine, run_id).values()) == {"pending"}
    assert jobs_of(engine, user.id) == []


def test_counters_never_change_after_a_reset_racing_with_workers(engine, session, make_user):
    user = make_user()
    urls = [URL.format(i) for i in range(120)]
    run_id, item_ids = seed_run(session, user.id, urls)
    started = threading.Event()
    snapshot: dict[str, int] = {}

    def work(args: tuple[int, str]) -> bool:
        started.set()
        return _record(run_id, args[0], args[1], fail=args[0] % 7 == 0)

    def reset_midway() -> None:
        started.wait()
        with type(session)(engine) as s:
            run = reset_run(s, user.id, run_id)
            snapshot.update(processed=run.jobs_processed, added=run.jobs_added, failed=run.jobs_failed)

    resetter = threading.Thread(target=reset_midway)
    resetter.start()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, zip(item_ids, urls, strict=True)))
    resetter.join()

    run = run_row(engine, run_id)
    assert run.status == "failed" and run.error_message == "Reset by user"
    assert (run.jobs_processed, run.jobs_added, run.jobs_failed) == (
        snapshot["processed"],
        snapshot["added"],
        snapshot["failed"],
    )
    finished = [s for s, _ in item_states(engine, run_id).values() if s != "pending"]
    assert run.jobs_processed == len(finished) == results.count(True) < 120
    assert len(jobs_of(engine, user.id)) == run.jobs_added


def test_reset_is_for_the_owner_and_only_for_active_runs(session, make_user):
    from ingest_app.core.pipeline import RunNotFound

    owner, other = make_user(), make_user()
    run_id, _ = seed_run(session, owner.id, [URL.format(1)])
    with pytest.raises(RunNotFound):
        reset_run(session, other.id, run_id)
    run = reset_run(session, owner.id, run_id)
    assert (run.status, run.current_stage, run.error_message) == ("failed", 5, "Reset by user")
    assert run.completed_at is not None
    with pytest.raises(RunNotActive):
        reset_run(session, owner.id, run_id)


def test_a_company_deleted_during_the_run_still_gets_its_jobs(engine, session, make_user):
    from ingest_app.core.companies import add_company, delete_company

    user = make_user()
    company = add_company(session, user.id, name="Acme", source="greenhouse:acme")
    session.commit()
    run_id, (item_id,) = seed_run(session, user.id, [URL.format(1)], company_id=company.id)
    delete_company(session, user.id, company.id)
    session.commit()

    assert _record(run_id, item_id, URL.format(1), fail=False)

    (job,) = jobs_of(engine, user.id)
    assert job.company_id is None and job.company == "Acme" and job.status == "active"
    assert run_row(engine, run_id).status == "completed"


def test_an_unreachable_database_raises_so_the_message_is_delivered_again(settings):
    import socket

    from ingest_app.core.pipeline import ItemMessage, process_item

    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/ingest")
    with pytest.raises(sa.exc.OperationalError):
        process_item(ItemMessage(run_id=1, item_id=1, url=URL.format(1), company="Acme"))
