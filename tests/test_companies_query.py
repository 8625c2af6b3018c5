"""The companies page's query at hundreds of companies: search, filters, sort and pages in the
database, and the bulk enable/disable/delete, each limited to the user's own companies."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from ingest_app.core import companies as core
from ingest_app.core.models import Company, Job, utcnow


def _seed(session, user_id: int, n: int) -> list[Company]:
    kinds = ("greenhouse", "lever", "ashby")
    rows = [
        Company(user_id=user_id, name=f"Company {i:03d}", source_kind=kinds[i % 3], source_value=f"board{i}")
        for i in range(n)
    ]
    session.add_all(rows)
    session.commit()
    return rows


def test_pages_of_a_few_hundred_companies_with_search_family_and_sort(session, make_user):
    user, other = make_user(), make_user()
    companies = _seed(session, user.id, 320)
    _seed(session, other.id, 5)
    busiest, recent = companies[7], companies[11]
    now = utcnow()
    for n in range(4):
        session.add(Job(user_id=user.id, company_id=busiest.id, company=busiest.name, source_url=f"https://x/{n}"))
    session.add(
        Job(
            user_id=user.id,
            company_id=recent.id,
            company=recent.name,
            source_url="https://x/recent",
            last_seen_at=now + timedelta(hours=1),
        )
    )
    session.add(
        Job(user_id=user.id, company_id=busiest.id, company=busiest.name, source_url="https://x/old", status="archived")
    )
    session.commit()

    first = core.query_companies(session, user.id, page_size=50)
    assert (first.total, first.pages, first.page, first.all_count, first.enabled_count) == (320, 7, 1, 320, 320)
    assert [r.name for r in first.rows[:2]] == ["Company 000", "Company 001"] and len(first.rows) == 50
    last = core.query_companies(session, user.id, page=99, page_size=50)
    assert last.page == 7 and [r.name for r in last.rows] == [f"Company {i:03d}" for i in range(300, 320)]

    lever = core.query_companies(session, user.id, family="lever", page_size=500)
    assert lever.total == 107 and {r.source_kind for r in lever.rows} == {"lever"}
    # A search is a plain substring: "%" and "_" match themselves, not everything.
    assert [r.name for r in core.query_companies(session, user.id, search="pany 01").rows][:3] == [
        "Company 010",
        "Company 011",
        "Company 012",
    ]
    assert core.query_companies(session, user.id, search="%").total == 0
    assert core.query_companies(session, user.id, search="BOARD319").rows[0].name == "Company 319"

    by_jobs = core.query_companies(session, user.id, sort="jobs", descending=True, page_size=3)
    assert [(r.name, r.jobs) for r in by_jobs.rows][:2] == [("Company 007", 4), ("Company 011", 1)]
    by_run = core.query_companies(session, user.id, sort="last_run", descending=True, page_size=1)
    assert by_run.rows[0].name == "Company 011"


def test_health_filters_and_sorts_worst_first(session, make_user):
    user = make_user()
    companies = _seed(session, user.id, 6)
    health = {companies[4].id: "failing", companies[1].id: "warning", companies[0].id: "healthy"}
    worst = core.query_companies(session, user.id, sort="health", health=health)
    assert [r.name for r in worst.rows][:3] == ["Company 004", "Company 001", "Company 002"]
    assert worst.rows[0].health == "failing" and worst.rows[-1].health == "healthy"
    failing = core.query_companies(session, user.id, health_filter="failing", health=health)
    assert [r.name for r in failing.rows] == ["Company 004"]
    unknown = core.query_companies(session, user.id, health_filter="unknown", health=health)
    assert [r.name for r in unknown.rows] == ["Company 002", "Company 003", "Company 005"]
    assert core.query_companies(session, user.id, health_filter="warning", health={}).total == 0


def test_bulk_enable_disable_delete_touch_only_the_users_companies(session, make_user):
    user, other = make_user(), make_user()
    mine = _seed(session, user.id, 5)
    theirs = _seed(session, other.id, 2)
    ids = [mine[0].id, mine[1].id, theirs[0].id]

    assert core.set_enabled(session, user.id, ids, False) == 2
    assert core.set_enabled(session, user.id, ids, False) == 0  # already disabled
    session.commit()
    assert core.query_companies(session, user.id).enabled_count == 3
    assert core.query_companies(session, user.id, enabled=False).total == 2
    assert core.set_enabled(session, user.id, [], True) == 0

    assert core.delete_many(session, user.id, ids) == 2
    session.commit()
    assert session.exec(sa.select(sa.func.count()).select_from(Company)).one()[0] == 5
    assert core.query_companies(session, other.id).total == 2
