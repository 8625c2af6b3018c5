"""The jobs page query against PostgreSQL: ownership, filters, archived toggle, pagination."""

from __future__ import annotations

from datetime import timedelta

from ingest_app.core.jobs_search import job_company_names, search_jobs
from ingest_app.core.models import Job, utcnow


def _job(session, user, n: int, **fields) -> Job:
    values = {
        "company": "Acme",
        "source_url": f"https://jobs.example.com/{user.id}/{n}",
        "title": f"Job {n}",
        "last_seen_at": utcnow() - timedelta(minutes=n),
    }
    values.update(fields)
    job = Job(user_id=user.id, **values)
    session.add(job)
    session.commit()
    return job


def test_only_the_users_active_jobs_by_default(session, make_user):
    alice, bob = make_user(), make_user()
    _job(session, alice, 1, title="Data Engineer")
    _job(session, alice, 2, title="Old role", status="archived")
    _job(session, bob, 3, title="Bob's job")

    result = search_jobs(session, alice.id)

    assert [j.title for j in result.items] == ["Data Engineer"]
    assert result.total == 1


def test_show_archived_lists_archived_after_active(session, make_user):
    alice = make_user()
    _job(session, alice, 1, title="Archived newest", status="archived")
    _job(session, alice, 5, title="Active older")

    result = search_jobs(session, alice.id, include_archived=True)

    assert [j.title for j in result.items] == ["Active older", "Archived newest"]


def test_text_filter_needs_every_word_in_some_column_case_insensitive(session, make_user):
    alice = make_user()
    _job(session, alice, 1, title="Senior Python Engineer", location="Berlin")
    _job(session, alice, 2, title="Python Engineer", location="Lisbon")
    _job(session, alice, 3, title="Designer", description="Works with python engineers in Berlin")

    titles = {j.title for j in search_jobs(session, alice.id, text="  python BERLIN ").items}

    assert titles == {"Senior Python Engineer", "Designer"}


def test_text_filter_treats_like_wildcards_literally(session, make_user):
    alice = make_user()
    _job(session, alice, 1, title="100% remote")
    _job(session, alice, 2, title="1000 remote")

    assert [j.title for j in search_jobs(session, alice.id, text="100%").items] == ["100% remote"]
    assert search_jobs(session, alice.id, text="_").total == 0


def test_company_filter_accepts_several_names(session, make_user):
    alice = make_user()
    _job(session, alice, 1, company="Acme")
    _job(session, alice, 2, company="Globex")
    _job(session, alice, 3, company="Initech")

    result = search_jobs(session, alice.id, companies=["Acme", "Initech", " "])

    assert {j.company for j in result.items} == {"Acme", "Initech"}
    assert job_company_names(session, alice.id) == ["Acme", "Globex", "Initech"]


def test_pagination_is_stable_and_clamped(session, make_user):
    alice = make_user()
    for n in range(1, 6):
        _job(session, alice, n)

    first = search_jobs(session, alice.id, page=1, page_size=2)
    last = search_jobs(session, alice.id, page=3, page_size=2)
    beyond = search_jobs(session, alice.id, page=99, page_size=2)

    assert [j.title for j in first.items] == ["Job 1", "Job 2"]
    assert [j.title for j in last.items] == ["Job 5"]
    assert (first.total, first.pages) == (5, 3)
    assert beyond.page == 3 and [j.title for j in beyond.items] == ["Job 5"]
    assert search_jobs(session, alice.id, page=0).page == 1
