"""What a run changed, as the pages show it: stage 5's summary with links per kind, the history's
changes column, and the jobs page filtered to one run's changes (closed jobs included)."""

from __future__ import annotations

from ingest_app.core.pipeline import record_item_result
from ingest_app.states.history import HistoryState
from ingest_app.states.jobs import JobsState
from ingest_app.states.run import RunState
from tests.support.runs import add_archived_job, posting, seed_run
from tests.ui.state_helpers import call, new_state


def _run_with_changes(session, user) -> int:
    back = "https://jobs.example.com/acme/back"
    add_archived_job(session, user.id, back)
    urls = [back, "https://jobs.example.com/acme/a", "https://jobs.example.com/acme/b"]
    run_id, item_ids = seed_run(session, user.id, urls)
    for item_id, url in zip(item_ids, urls, strict=True):
        assert record_item_result(run_id, item_id, posting=posting(url), error=None)
    return run_id


def test_stage_5_and_history_show_the_change_summary(session, make_user):
    user = make_user()
    run_id = _run_with_changes(session, user)

    run = new_state(RunState, user_id=user.id, url=f"http://localhost:3000/run?run={run_id}")
    call(run, "load")
    assert run.status == "completed"
    assert run.change_summary == "+2 new · 1 reopened · 1 changed"
    assert [(c.kind, c.label, c.href) for c in run.change_counts] == [
        ("new", "+2 new", f"/jobs?run={run_id}&change=new"),
        ("reopened", "1 reopened", f"/jobs?run={run_id}&change=reopened"),
        ("changed", "1 changed", f"/jobs?run={run_id}&change=changed"),
    ]

    history = new_state(HistoryState, user_id=user.id)
    call(history, "load")
    assert [(r.run_id, r.changes) for r in history.runs] == [(run_id, "+2 new · 1 reopened · 1 changed")]


def test_the_jobs_page_filters_to_one_runs_changes_by_kind(session, make_user):
    user = make_user()
    run_id = _run_with_changes(session, user)
    jobs = new_state(JobsState, user_id=user.id, url=f"http://localhost:3000/jobs?run={run_id}&change=new")
    call(jobs, "load")
    assert (jobs.change_run, jobs.change_kind) == (run_id, "new")
    assert sorted(j.url.rsplit("/", 1)[1] for j in jobs.jobs) == ["a", "b"]
    assert all(j.open_for == "new today" for j in jobs.jobs)

    call(jobs, "set_change_kind", "reopened")
    assert [(j.url.rsplit("/", 1)[1], j.reopened, j.open_for) for j in jobs.jobs] == [
        ("back", "reopened 1×", "open for 30 days")
    ]
    call(jobs, "set_change_kind", "closed")
    assert jobs.total == 0
    call(jobs, "clear_change_filter")
    assert jobs.total == 3 and jobs.change_run == 0

    # Someone else's run id shows nothing of theirs (the filter is within the user's own jobs).
    other = new_state(JobsState, user_id=make_user().id, url=f"http://localhost:3000/jobs?run={run_id}")
    call(other, "load")
    assert other.total == 0
