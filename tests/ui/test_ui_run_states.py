"""Stages 3-5 on the run page: polling starts and stops with the run, stage 5 comes by itself."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import select

from ingest_app.core import pipeline
from ingest_app.core.crawl.types import Posting
from ingest_app.core.models import Company, IngestionRun, IngestionRunItem, Job, utcnow
from ingest_app.states.history import HistoryState
from ingest_app.states.jobs import JobsState
from ingest_app.states.preview import PreviewState
from ingest_app.states.run import RunState
from tests.ui.state_helpers import call, new_state, redirect_target

RUNS = IngestionRun.__table__


def _start(session, user, *names: str) -> int:
    for name in names or ("Acme",):
        session.add(Company(user_id=user.id, name=name, source_kind="lever", source_value=name.lower()))
    session.commit()
    return pipeline.start_run(session, user.id).run_id


def _worker_update(engine, run_id: int, **values) -> None:
    """What stage 3 and the worker do to the run row, as seen by the page."""
    with engine.begin() as conn:
        conn.execute(sa.update(RUNS).where(RUNS.c.run_id == run_id).values(**values))


def test_active_run_is_shown_and_polled_until_completed_then_stage_5(session, engine, make_user):
    user = make_user()
    run_id = _start(session, user, "Acme", "Globex")
    state = new_state(RunState, user_id=user.id, url="http://localhost:3000/run")

    call(state, "load")
    assert (state.run_id, state.stage, state.polling) == (run_id, 3, True)

    _worker_update(
        engine,
        run_id,
        status="ingesting",
        current_stage=4,
        total_jobs_found=4,
        jobs_processed=1,
        jobs_added=1,
        jobs_archived=2,
    )
    assert call(state, "tick") is None
    assert (state.stage, state.polling, state.processed, state.total, state.percent) == (4, True, 1, 4, 25)
    assert (state.added, state.archived) == (1, 2)

    _worker_update(
        engine,
        run_id,
        status="completed",
        current_stage=5,
        jobs_processed=4,
        jobs_added=3,
        jobs_failed=1,
        completed_at=utcnow() + timedelta(seconds=65),
    )
    result = call(state, "tick")

    assert redirect_target(result) == f"/run?run={run_id}"
    assert (state.stage, state.polling, state.status) == (5, False, "completed")
    assert (state.added, state.failed, state.percent) == (3, 1, 100)
    assert state.search_url == "/jobs?company=Acme&company=Globex"
    assert call(state, "tick") is None  # polling stopped: a late tick reads nothing


def test_failed_run_shows_its_reason_and_stops_polling(session, engine, make_user):
    user = make_user()
    run_id = _start(session, user)
    state = new_state(RunState, user_id=user.id)
    call(state, "load")

    _worker_update(engine, run_id, status="failed", current_stage=5, error_message="Queue unreachable")
    call(state, "tick")

    assert (state.stage, state.polling, state.error_message) == (5, False, "Queue unreachable")


def test_failed_items_and_company_notes_reach_the_results(session, engine, make_user):
    user = make_user()
    run_id = _start(session, user)
    session.add(
        IngestionRunItem(run_id=run_id, company="Acme", url="https://x.test/1", state="failed", error="HTTP 404")
    )
    session.commit()
    companies = [{"name": "Acme", "source": "lever:acme", "listed": 1, "archived": 0, "error": "Listing failed"}]
    _worker_update(
        engine,
        run_id,
        status="completed",
        current_stage=5,
        total_jobs_found=1,
        jobs_processed=1,
        jobs_failed=1,
        companies=companies,
        completed_at=utcnow(),
    )
    state = new_state(RunState, user_id=user.id, url=f"http://localhost:3000/run?run={run_id}")

    call(state, "load")

    assert state.polling is False and state.stage == 5
    assert [(i.url, i.error) for i in state.failed_items] == [("https://x.test/1", "HTTP 404")]
    assert [(c.name, c.listed, c.note) for c in state.companies] == [("Acme", 1, "Listing failed")]


def test_no_run_yet_means_no_polling(make_user):
    state = new_state(RunState, user_id=make_user().id)

    call(state, "load")

    assert (state.run_id, state.stage, state.polling, state.loaded) == (0, 0, False, True)


def test_another_users_run_is_not_found_and_not_polled(session, make_user):
    owner, other = make_user(), make_user()
    run_id = _start(session, owner)
    state = new_state(RunState, user_id=other.id, url=f"http://localhost:3000/run?run={run_id}")

    call(state, "load")

    assert (state.not_found, state.polling, state.status) == (True, False, "")


def test_loading_the_page_again_keeps_polling_and_the_next_tick_advances(session, engine, make_user):
    """React may mount the page twice (StrictMode in `reflex run`, a remount): nothing turns the
    timer off but the run leaving the active states."""
    user = make_user()
    run_id = _start(session, user)
    state = new_state(RunState, user_id=user.id, url="http://localhost:3000/run")
    call(state, "load")
    call(state, "load")
    assert (state.stage, state.polling) == (3, True)

    _worker_update(engine, run_id, status="ingesting", current_stage=4, total_jobs_found=2, jobs_processed=1)
    assert call(state, "tick") is None
    assert (state.stage, state.polling, state.processed) == (4, True, 1)


def test_the_poller_has_no_mount_handlers_that_could_stop_it():
    from ingest_app.pages.run import _poller

    poller = _poller()
    triggers = set(poller.event_triggers) | {t for child in poller.children for t in child.event_triggers}
    assert not triggers & {"on_mount", "on_unmount"}, triggers


def test_reset_aborts_the_run_and_returns_to_stage_1(session, make_user):
    user = make_user()
    run_id = _start(session, user)
    state = new_state(RunState, user_id=user.id)
    call(state, "load")

    result = call(state, "confirm_reset")

    assert redirect_target(result) == "/companies"
    assert state.polling is False
    session.expire_all()
    run = session.get(IngestionRun, run_id)
    assert (run.status, run.error_message) == ("failed", "Reset by user")


def test_reset_of_a_finished_run_explains_why_not(session, engine, make_user):
    user = make_user()
    run_id = _start(session, user)
    _worker_update(engine, run_id, status="completed", current_stage=5, completed_at=utcnow())
    state = new_state(RunState, user_id=user.id, url=f"http://localhost:3000/run?run={run_id}")
    call(state, "load")

    assert call(state, "confirm_reset") is None
    assert "only an active run can be reset" in state.reset_error and state.stage == 5


def test_preview_with_an_active_run_goes_to_its_progress(session, make_user):
    user = make_user()
    _start(session, user)
    state = new_state(PreviewState, user_id=user.id)

    assert redirect_target(call(state, "load")) == "/run"
    assert redirect_target(call(state, "start")) == "/run"
    assert len(session.exec(select(IngestionRun)).all()) == 1


def test_preview_without_companies_explains_and_starts_nothing(session, make_user):
    state = new_state(PreviewState, user_id=make_user().id)
    call(state, "load")

    assert call(state, "start") is None
    assert "company" in state.error.lower()
    assert session.exec(select(IngestionRun)).all() == []


def test_history_lists_finished_runs_newest_first_with_a_limit(session, engine, make_user):
    user = make_user()
    ids = []
    for n in range(3):
        run_id = _start(session, user, f"C{n}")
        _worker_update(
            engine,
            run_id,
            status="completed",
            current_stage=5,
            total_jobs_found=n,
            created_at=utcnow() + timedelta(minutes=n),
            completed_at=utcnow() + timedelta(minutes=n, seconds=5),
        )
        ids.append(run_id)
    state = new_state(HistoryState, user_id=user.id)

    call(state, "load")
    assert [r.run_id for r in state.runs] == ids[::-1]
    assert state.runs[0].status == "completed" and state.runs[0].found == 2

    call(state, "set_limit", "10000")
    assert state.limit == "10"


def test_jobs_page_takes_its_filters_from_the_url(session, make_user):
    user = make_user()
    for n, (company, title, status) in enumerate(
        [
            ("Acme", "Python dev", "active"),
            ("Globex", "Python ops", "archived"),
            ("Initech", "Python QA", "active"),
            ("Acme", "Designer", "active"),
        ]
    ):
        session.add(
            Job(
                user_id=user.id,
                company=company,
                title=title,
                status=status,
                source_url=f"https://j.test/{n}",
                description="<b>Bold</b> & <script>alert(1)</script>",
            )
        )
    session.commit()
    state = new_state(
        JobsState, user_id=user.id, url="http://localhost:3000/jobs?q=python&company=Acme&company=Globex&archived=1"
    )

    call(state, "load")

    assert (state.query, state.selected_companies, state.show_archived) == ("python", ["Acme", "Globex"], True)
    assert sorted(j.title for j in state.jobs) == ["Python dev", "Python ops"]
    assert state.jobs[0].description == "<b>Bold</b> & <script>alert(1)</script>"  # text, rendered escaped

    call(state, "toggle_company", "Globex")
    assert [j.title for j in state.jobs] == ["Python dev"]
    assert session.exec(select(Job)).all()  # filtering never changes data


def test_results_show_a_page_that_is_not_a_job_as_skipped_apart_from_the_failures(session, engine, make_user):
    user = make_user()
    run_id = _start(session, user)
    urls = ["https://acme.example/jobs/1", "https://acme.example/about", "https://acme.example/jobs/3"]
    _worker_update(engine, run_id, status="ingesting", current_stage=4, total_jobs_found=3)
    session.add_all([IngestionRunItem(run_id=run_id, company="Acme", url=url) for url in urls])
    session.commit()
    items = session.exec(select(IngestionRunItem).where(IngestionRunItem.run_id == run_id)).all()
    ids = {item.url: item.id for item in items}
    posting = Posting(source_url=urls[0], title="Engineer", description="Build.")
    assert pipeline.record_item_result(run_id, ids[urls[0]], posting=posting, error=None)
    assert pipeline.record_item_result(run_id, ids[urls[1]], posting=None, error="not_a_job_page: no job posting")
    assert pipeline.record_item_result(run_id, ids[urls[2]], posting=None, error="not_found: HTTP 404")
    state = new_state(RunState, user_id=user.id, url=f"http://localhost:3000/run?run={run_id}")

    call(state, "load")

    assert (state.status, state.processed, state.added, state.failed, state.skipped) == ("completed", 3, 1, 1, 1)
    assert [(i.url, i.error) for i in state.failed_items] == [(urls[2], "not_found: HTTP 404")]
    assert [(i.url, i.company, i.label) for i in state.skipped_items] == [
        (urls[1], "Acme", "skipped: not a job posting")
    ]


def test_history_rows_show_skipped_items_apart_from_failures() -> None:
    from ingest_app.core.models import utcnow
    from ingest_app.core.pipeline.read_models import HistoryEntry
    from ingest_app.states.rows import HistoryRow

    counts = dict(total_jobs_found=0, jobs_processed=0, jobs_added=0, jobs_archived=0, jobs_failed=1, jobs_skipped=3)
    entry = HistoryEntry(
        run_id=7,
        status="completed",
        created_at=utcnow(),
        started_at=None,
        completed_at=None,
        duration_seconds=None,
        companies=[],
        error_message=None,
        **counts,
    )
    row = HistoryRow.of(entry)
    assert (row.failed, row.skipped) == (1, 3)
