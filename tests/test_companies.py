"""Company configs: validation, ownership, duplicates."""

from __future__ import annotations

import pytest

from ingest_app.core import companies as core


def test_add_list_update_delete_own_companies(session, make_user):
    user = make_user()
    acme = core.add_company(session, user.id, name=" Acme ", source="greenhouse:acme")
    core.add_company(session, user.id, name="Beta", source="careers:https://beta.example/careers", enabled=False)
    session.commit()
    assert acme.name == "Acme" and acme.source == "greenhouse:acme"
    assert [c.name for c in core.list_companies(session, user.id)] == ["Acme", "Beta"]
    assert [c.name for c in core.list_companies(session, user.id, enabled_only=True)] == ["Acme"]
    core.update_company(session, user.id, acme.id, source="lever:acme", enabled=False)
    assert core.get_company(session, user.id, acme.id).source == "lever:acme"
    core.delete_company(session, user.id, acme.id)
    assert [c.name for c in core.list_companies(session, user.id)] == ["Beta"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("icims:acme", "greenhouse:TOKEN"),
        ("workday:acme", "http"),
        ("greenhouse:", "board token"),
        ("lever:has space", "site name"),
        ("careers:ftp://x.example/jobs", "http"),
        ("careers:not a url", "http"),
        ("careers:https://x.example/\x00jobs", "NUL"),
    ],
)
def test_invalid_sources_are_explained(session, make_user, source, message):
    user = make_user()
    with pytest.raises(core.CompanyError, match=message):
        core.add_company(session, user.id, name="X", source=source)


def test_duplicate_source_for_the_same_user_is_refused(session, make_user):
    user = make_user()
    core.add_company(session, user.id, name="Acme", source="ashby:acme")
    session.commit()
    with pytest.raises(core.DuplicateCompany):
        core.add_company(session, user.id, name="Acme 2", source="ashby:acme")


def test_another_users_company_is_not_found(session, make_user):
    owner, other = make_user(), make_user()
    company = core.add_company(session, owner.id, name="Acme", source="ashby:acme")
    session.commit()
    with pytest.raises(core.CompanyNotFound):
        core.get_company(session, other.id, company.id)
    with pytest.raises(core.CompanyNotFound):
        core.update_company(session, other.id, company.id, name="Mine now")
    with pytest.raises(core.CompanyNotFound):
        core.delete_company(session, other.id, company.id)
