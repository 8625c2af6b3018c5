"""A whole run of every source kind (the fourteen families, one demo company each) served by the demo
site on 127.0.0.1, through the core functions the worker and the app call."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from devtools.demo.data import ALL_KINDS
from ingest_app.core.companies import add_company
from ingest_app.core.pipeline import get_progress, process_item, run_stage3, start_run
from tests.support.fleet import CollectingSend
from tests.support.runs import jobs_of, run_row


@pytest.fixture
def demo(settings) -> Iterator:
    from devtools.demo.site import DemoSite, start_demo_server

    server = start_demo_server(DemoSite.default(rotate=False))
    settings(server.settings_env())
    try:
        yield server
    finally:
        server.stop()


def _ingest(session, user_id: int) -> int:
    run = start_run(session, user_id)
    sent = CollectingSend()
    run_stage3(run.run_id, send=sent)
    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(process_item, sent.messages))
    assert set(outcomes) == {"succeeded"}, outcomes
    return run.run_id


def test_every_source_kind_runs_to_completion_and_a_second_run_catches_changes(engine, session, make_user, demo):
    user = make_user()
    for company in demo.company_sources():
        add_company(session, user.id, name=company["name"], source=company["source"])
    session.commit()
    site = demo.site
    listed = {url for slug in site.companies for url in site.listed_urls(slug)}

    first = _ingest(session, user.id)

    progress = get_progress(session, user.id, first)
    assert progress.status == "completed" and progress.total_jobs_found == len(listed)
    assert progress.jobs_added == len(listed) and progress.jobs_failed == 0
    assert all(c.error is None and c.listed > 0 for c in progress.companies)
    assert {c.source.split(":")[0] for c in progress.companies} == set(ALL_KINDS)  # every family
    jobs = jobs_of(engine, user.id)
    assert len(jobs) == len(listed) and all(j.title for j in jobs)

    slugs = list(site.companies)
    dropped = [site.jobs(slugs[0])[0], site.jobs(slugs[1])[0]]
    site.remove_job(slugs[0], dropped[0].id)
    site.remove_job(slugs[1], dropped[1].id)
    site.add_job(slugs[2], title="Staff Reliability Engineer")

    second = _ingest(session, user.id)

    row = run_row(engine, second)
    assert (row.status, row.jobs_archived, row.jobs_added) == ("completed", 2, 1)
    assert row.total_jobs_found == len(listed) - 1
    statuses = [j.status for j in jobs_of(engine, user.id)]
    assert statuses.count("archived") == 2 and statuses.count("active") == len(listed) - 1
