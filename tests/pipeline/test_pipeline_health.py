"""Board health across consecutive runs on PostgreSQL, against local boards: healthy -> warning ->
failing and back, the zero-jobs streak, the suspect empty board (archived only after N runs), and
"moved?" finding the same company on another family served by the demo site."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ingest_app.core import health
from ingest_app.core.companies import CompanyNotFound, add_company, get_company
from ingest_app.core.models import IngestionRun, Job, utcnow
from ingest_app.core.pipeline import get_progress, run_stage3, start_run
from tests.support.fleet import CollectingSend
from tests.support.greenhouse_site import FixtureSite
from tests.support.runs import jobs_of, run_row

RUNS = IngestionRun.__table__


def _run(engine, session, user_id: int) -> int:
    """One run's stage 3, then the run is closed so the next one can start (stage 4 is not under test)."""
    run = start_run(session, user_id)
    run_stage3(run.run_id, send=CollectingSend())
    with engine.begin() as conn:
        conn.execute(
            sa.update(RUNS)
            .where(RUNS.c.run_id == run.run_id, RUNS.c.status != "completed")
            .values(status="completed", current_stage=5, completed_at=utcnow())
        )
    return run.run_id


def _result(engine, run_id: int) -> dict:
    (entry,) = run_row(engine, run_id).companies
    return entry


def _seed_jobs(session, user_id: int, company, urls: list[str]) -> None:
    old = utcnow() - timedelta(days=3)
    for url in urls:
        session.add(
            Job(user_id=user_id, company_id=company.id, company=company.name, source_url=url,
                first_seen_at=old, last_seen_at=old)
        )  # fmt: skip
    session.commit()


def test_a_board_goes_healthy_warning_failing_and_recovers(engine, session, make_user, fixture_site: FixtureSite):
    user = make_user()
    company = add_company(session, user.id, name="Acme", source="greenhouse:acme")
    session.commit()
    assert health.health_for_user(session, user.id)[company.id].status == "unknown"
    fixture_site.boards["acme"] = [1, 2, 3]

    _run(engine, session, user.id)
    first = health.health_for_user(session, user.id)[company.id]
    assert (first.status, first.jobs_now, first.jobs_before, first.consecutive_failures) == ("healthy", 3, None, 0)
    assert first.last_success_at is not None and first.last_error is None

    fixture_site.broken_boards.add("acme")
    _run(engine, session, user.id)
    second = health.health_for_user(session, user.id)[company.id]
    assert (second.status, second.consecutive_failures, second.jobs_now) == ("warning", 1, 3)
    assert second.last_error.startswith("http_5xx") and second.last_success_at == first.last_success_at

    third_run = _run(engine, session, user.id)
    third = health.health_for_user(session, user.id)[company.id]
    assert (third.status, third.consecutive_failures) == ("failing", 2)
    assert _result(engine, third_run)["archive_rule"] == "kept: listing failed"

    fixture_site.broken_boards.discard("acme")
    fixture_site.boards["acme"] = [1, 2]
    _run(engine, session, user.id)
    back = health.health_for_user(session, user.id)[company.id]
    assert (back.status, back.consecutive_failures, back.last_error) == ("healthy", 0, None)
    assert (back.jobs_now, back.jobs_before) == (2, 3)
    assert back.last_success_at > first.last_success_at


def test_an_empty_board_is_suspect_for_n_runs_before_its_jobs_are_archived(
    engine, session, make_user, fixture_site: FixtureSite
):
    user = make_user()
    company = add_company(session, user.id, name="Acme", source="greenhouse:acme")
    session.commit()
    fixture_site.boards["acme"] = []
    urls = [fixture_site.job_url(i) for i in (1, 2)]
    _seed_jobs(session, user.id, company, urls)

    first = _run(engine, session, user.id)
    entry = _result(engine, first)
    assert entry["archive_rule"] == "kept: empty listing 1 of 2 runs"
    assert entry["skipped_reason"] == "listed no jobs while 2 jobs are active; archiving skipped"
    assert {j.status for j in jobs_of(engine, user.id)} == {"active"}
    h = health.health_for_user(session, user.id)[company.id]
    assert (h.status, h.suspect, h.zero_streak, h.jobs_now) == ("warning", True, 1, 0)
    assert get_progress(session, user.id, first).companies[0].archive_rule == entry["archive_rule"]

    second = _run(engine, session, user.id)
    entry = _result(engine, second)
    assert entry["archive_rule"] == "archived: empty for 2 runs"
    assert entry["skipped_reason"] is None and entry["archived"] == 2
    assert {j.status for j in jobs_of(engine, user.id)} == {"archived"}
    assert run_row(engine, second).jobs_archived == 2
    h = health.health_for_user(session, user.id)[company.id]
    assert (h.suspect, h.zero_streak) == (False, 2)

    _run(engine, session, user.id)  # still empty, nothing left to archive: the streak goes on
    assert health.health_for_user(session, user.id)[company.id].zero_streak == 3


def test_a_board_that_lists_again_ends_the_zero_streak_and_keeps_its_jobs(
    engine, session, make_user, fixture_site: FixtureSite, settings
):
    settings(EMPTY_BOARD_SUSPECT_RUNS="3")
    user = make_user()
    company = add_company(session, user.id, name="Acme", source="greenhouse:acme")
    session.commit()
    fixture_site.boards["acme"] = []
    _seed_jobs(session, user.id, company, [fixture_site.job_url(1), fixture_site.job_url(2)])

    rules = [_result(engine, _run(engine, session, user.id))["archive_rule"] for _ in range(2)]
    assert rules == ["kept: empty listing 1 of 3 runs", "kept: empty listing 2 of 3 runs"]
    assert health.health_for_user(session, user.id)[company.id].zero_streak == 2

    fixture_site.boards["acme"] = [1]
    entry = _result(engine, _run(engine, session, user.id))
    assert entry["archive_rule"] == "archived: jobs no longer listed" and entry["archived"] == 1
    statuses = {j.source_url: j.status for j in jobs_of(engine, user.id)}
    assert statuses == {fixture_site.job_url(1): "active", fixture_site.job_url(2): "archived"}
    h = health.health_for_user(session, user.id)[company.id]
    assert (h.status, h.zero_streak, h.suspect, h.jobs_now, h.jobs_before) == ("healthy", 0, False, 1, 0)

    fixture_site.boards["acme"] = []  # empty again: the count starts over
    assert _result(engine, _run(engine, session, user.id))["archive_rule"] == "kept: empty listing 1 of 3 runs"


def test_health_is_per_user_and_starts_afresh_when_the_source_changes(
    engine, session, make_user, fixture_site: FixtureSite
):
    alice, bob = make_user(), make_user()
    mine = add_company(session, alice.id, name="Acme", source="greenhouse:acme")
    theirs = add_company(session, bob.id, name="Acme", source="greenhouse:acme")
    session.commit()
    fixture_site.boards.update(acme=[1], other=[4, 5])
    _run(engine, session, alice.id)

    assert set(health.health_for_user(session, alice.id)) == {mine.id}
    assert health.health_for_user(session, bob.id)[theirs.id].status == "unknown"
    with pytest.raises(CompanyNotFound):
        health.health_of(session, bob.id, mine.id)

    company = get_company(session, alice.id, mine.id)
    company.source_value = "other"
    session.commit()
    assert health.health_for_user(session, alice.id)[mine.id].status == "unknown"
    _run(engine, session, alice.id)
    h = health.health_for_user(session, alice.id)[mine.id]
    assert (h.status, h.jobs_now, h.jobs_before) == ("healthy", 2, None)


# --- "moved?" ---------------------------------------------------------------------------------


@pytest.fixture
def demo(settings) -> Iterator:
    """The demo site with one company on Lever only; the token families pointed at it."""
    from devtools.demo.site import DemoSite, start_demo_server

    site = DemoSite()
    site.add_company("Northwind", "lever", slug="northwind", jobs=5)
    server = start_demo_server(site)
    settings(
        server.settings_env(),
        HEALTH_MOVED_FAMILIES="greenhouse,lever,ashby",
        HEALTH_MOVED_PER_TICK="10",
        CRAWLER_MAX_RETRIES="1",
    )
    try:
        yield server
    finally:
        server.stop()


def test_a_missing_board_is_found_on_another_family_and_the_move_applies_in_one_call(engine, session, make_user, demo):
    user = make_user()
    company = add_company(session, user.id, name="Northwind", source="greenhouse:northwind")
    session.commit()
    assert health.candidate_sources(company) == ["lever:northwind", "ashby:northwind"]

    _run(engine, session, user.id)
    h = health.health_for_user(session, user.id)[company.id]
    assert h.status == "warning" and h.last_error.startswith("not_found") and h.needs_move_check
    assert h.moved is None

    assert health.check_moved_due() == 1
    assert health.check_moved_due() == 0  # searched since its last run: not again until the next one
    moved = health.health_for_user(session, user.id)[company.id].moved
    assert (moved.source, moved.family, moved.jobs_listed) == ("lever:northwind", "lever", 5)
    assert moved.checked_at is not None

    applied = health.apply_move(session, user.id, company.id)
    session.commit()
    assert applied.source == "lever:northwind"
    assert health.health_for_user(session, user.id)[company.id].status == "unknown"
    _run(engine, session, user.id)
    h = health.health_for_user(session, user.id)[company.id]
    assert (h.status, h.jobs_now, h.needs_move_check, h.moved) == ("healthy", 5, False, None)
    with pytest.raises(health.NoMoveSuggestion):
        health.apply_move(session, user.id, company.id)


def test_a_board_that_went_from_many_jobs_to_none_is_flagged_for_the_search(
    engine, session, make_user, fixture_site: FixtureSite
):
    user = make_user()
    company = add_company(session, user.id, name="Acme", source="greenhouse:acme")
    session.commit()
    fixture_site.boards["acme"] = [1, 2, 3, 4]
    _run(engine, session, user.id)
    assert health.health_for_user(session, user.id)[company.id].needs_move_check is False

    fixture_site.boards["acme"] = []
    _run(engine, session, user.id)
    h = health.health_for_user(session, user.id)[company.id]
    assert (h.jobs_now, h.jobs_before, h.zero_streak, h.needs_move_check) == (0, 4, 1, True)
    assert h.status == "warning"

    fixture_site.boards["acme"] = [5]  # listing again: the flag and any suggestion go away
    _run(engine, session, user.id)
    h = health.health_for_user(session, user.id)[company.id]
    assert (h.status, h.needs_move_check, h.moved) == ("healthy", False, None)


def test_the_search_gives_up_at_its_deadline(engine, session, make_user, demo, settings):
    settings(HEALTH_MOVED_TIMEOUT="0.5")
    demo.site.set_latency(2.0, "/lever")
    user = make_user()
    company = add_company(session, user.id, name="Northwind", source="greenhouse:northwind")
    session.commit()
    started = utcnow()
    assert health.find_moved(company) == []
    assert (utcnow() - started).total_seconds() < 1.9


def test_the_worker_tick_searches_the_flagged_boards(engine, session, make_user, demo):
    from lambda_worker.schedule_lambda import tick_once

    user = make_user()
    company = add_company(session, user.id, name="Northwind", source="greenhouse:northwind")
    session.commit()
    assert tick_once()["moved_searches"] == 0  # nothing flagged before a run
    _run(engine, session, user.id)

    assert tick_once()["moved_searches"] == 1
    assert health.health_for_user(session, user.id)[company.id].moved.source == "lever:northwind"


@pytest.mark.parametrize(
    ("source", "slug"),
    [
        ("greenhouse:acme", "acme"),
        ("recruitee:https://acme.recruitee.com/", "acme"),
        ("smartrecruiters:https://jobs.smartrecruiters.com/Acme", "Acme"),
        ("rippling:https://ats.rippling.com/acme/jobs", "acme"),
        ("careers:https://www.northwind.com/careers", "northwind"),
        ("careers:https://careers.globex.io/", "globex"),
        ("careers:http://127.0.0.1:8000/careers/", None),
    ],
)
def test_the_board_slug_is_read_from_the_family_shape(source, slug):
    assert health.board_slug(source) == slug


def test_an_outcome_offered_twice_for_one_run_is_counted_once(engine, session, make_user):
    user = make_user()
    company = add_company(session, user.id, name="Acme", source="greenhouse:acme")
    session.commit()
    empty = health.ListingOutcome(company_id=company.id, source="greenhouse:acme", listed=0, active_jobs=3)
    verdicts = []
    for run_id in (7, 7, 8, 8):
        with engine.begin() as conn:
            verdicts.append(health.record_listings(conn, run_id, [empty])[company.id].rule)
    assert verdicts == ["kept: empty listing 1 of 2 runs"] * 2 + ["archived: empty for 2 runs"] * 2
    assert health.health_for_user(session, user.id)[company.id].zero_streak == 2
    gone = health.ListingOutcome(company_id=company.id + 1000, source="greenhouse:gone", listed=None, error="x")
    with engine.begin() as conn:  # a company deleted since the run started: skipped, not an error
        assert health.record_listings(conn, 9, [gone]) == {}


def test_two_ticks_at_once_search_each_flagged_board_once(engine, session, make_user, demo):
    import threading

    users = [make_user() for _ in range(4)]
    for user in users:
        add_company(session, user.id, name="Northwind", source="greenhouse:northwind")
    session.commit()
    for user in users:
        _run(engine, session, user.id)
    searched: list[str] = []
    lock = threading.Lock()

    def counting_probe(source: str) -> health.Probe:
        with lock:
            searched.append(source)
        return health.probe(source)

    barrier = threading.Barrier(2)
    counts: list[int] = []

    def tick() -> None:
        barrier.wait()
        counts.append(health.check_moved_due(limit=4, probe_fn=counting_probe))

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sum(counts) == 4
    assert sorted(searched) == sorted(["lever:northwind", "ashby:northwind"] * 4)
    assert {h.moved.source for u in users for h in health.health_for_user(session, u.id).values()} == {
        "lever:northwind"
    }
