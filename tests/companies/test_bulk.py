"""Bulk enable, disable and delete touch only the user's own companies."""

from __future__ import annotations

from ingest_app.core.companies import add_company, delete_many, list_companies, missing_ids, set_enabled


def _three(session, user_id: int) -> list[int]:
    ids = [add_company(session, user_id, name=n, source=f"lever:{n}").id for n in ("a", "b", "c")]
    session.commit()
    return ids


def test_disable_and_enable_several_at_once(session, make_user) -> None:
    user = make_user()
    a, b, c = _three(session, user.id)
    assert set_enabled(session, user.id, [a, b], False) == 2
    assert set_enabled(session, user.id, [a, b], False) == 0  # already disabled: nothing changed
    session.commit()
    assert {x.id: x.enabled for x in list_companies(session, user.id)} == {a: False, b: False, c: True}
    assert set_enabled(session, user.id, [a, b, c], True) == 2


def test_another_users_ids_are_ignored_and_named(session, make_user) -> None:
    alice, bob = make_user(), make_user()
    mine = _three(session, alice.id)
    theirs = add_company(session, bob.id, name="Bob's", source="lever:bob").id
    session.commit()
    assert missing_ids(session, alice.id, [*mine, theirs, 999999]) == [theirs, 999999]
    assert set_enabled(session, alice.id, [theirs], False) == 0
    assert delete_many(session, alice.id, [mine[0], theirs, 999999]) == 1
    session.commit()
    assert [c.id for c in list_companies(session, bob.id)] == [theirs]
    assert list_companies(session, bob.id)[0].enabled is True
    assert [c.id for c in list_companies(session, alice.id)] == mine[1:]


def test_an_empty_id_list_changes_nothing(session, make_user) -> None:
    user = make_user()
    _three(session, user.id)
    assert set_enabled(session, user.id, [], False) == 0 and delete_many(session, user.id, []) == 0
    assert len(list_companies(session, user.id)) == 3
