"""The companies page's handlers at a few hundred companies: pages of 50, search, filters, sort,
selection and bulk actions, and health badges with the one-click "moved?" fix."""

from __future__ import annotations

from sqlmodel import select

from ingest_app.core.models import Company, CompanyHealthRow, utcnow
from ingest_app.states.companies import CompaniesState
from tests.ui.state_helpers import call, new_state


def _seed(session, user_id: int, n: int) -> list[Company]:
    rows = [
        Company(user_id=user_id, name=f"Co {i:03d}", source_kind=("greenhouse", "lever")[i % 2], source_value=f"b{i}")
        for i in range(n)
    ]
    session.add_all(rows)
    session.commit()
    return rows


def test_pages_search_filter_select_and_bulk_actions(session, make_user):
    user = make_user()
    _seed(session, user.id, 230)
    state = new_state(CompaniesState, user_id=user.id)
    call(state, "load")
    assert (len(state.companies), state.pages, state.all_count, state.enabled_count) == (50, 5, 230, 230)
    assert state.range_text == "1–50 of 230 companies"

    call(state, "go_to_page", 5)
    assert [c.name for c in state.companies][:1] == ["Co 200"] and len(state.companies) == 30
    call(state, "set_family_filter", "lever")
    assert state.page == 1 and state.match_count == 115 and state.range_text == "1–50 of 115 companies (of 230)"
    call(state, "set_family_filter", "no-such-family")  # anything unknown is "all"
    assert state.family_filter == "all" and state.match_count == 230
    call(state, "set_search", "co 01")
    assert [c.name for c in state.companies] == [f"Co {i:03d}" for i in range(10, 20)]
    call(state, "toggle_descending")
    assert state.companies[0].name == "Co 019"

    call(state, "select_page", True)
    assert state.selected_count == 10 and state.page_selected
    call(state, "toggle_selected", state.companies[0].id, False)
    assert state.selected_count == 9 and not state.page_selected
    call(state, "bulk_set_enabled", False)
    assert state.message == "Disabled 9 companies" and state.enabled_count == 221
    call(state, "set_bulk_delete_open", True)
    assert state.bulk_delete_open
    call(state, "bulk_delete")
    assert state.message == "Deleted 9 companies" and state.selected == [] and not state.bulk_delete_open
    assert [c.name for c in state.companies] == ["Co 019"]
    assert len(session.exec(select(Company).where(Company.user_id == user.id)).all()) == 221
    call(state, "set_bulk_delete_open", True)  # nothing selected: no confirmation to open
    assert not state.bulk_delete_open


def test_health_badges_filter_and_the_moved_fix(session, make_user):
    user = make_user()
    gone, fine, other = _seed(session, user.id, 3)
    now = utcnow()
    session.add_all(
        [
            CompanyHealthRow(
                company_id=gone.id,
                source=gone.source,
                last_checked_at=now,
                consecutive_failures=1,
                last_error="not_found: no greenhouse board named 'b0'",
                needs_move_check=True,
                moved={"source": "ashby:b0", "family": "ashby", "jobs_listed": 4},
            ),
            CompanyHealthRow(company_id=fine.id, source=fine.source, last_checked_at=now, last_success_at=now),
        ]
    )
    session.commit()
    state = new_state(CompaniesState, user_id=user.id)
    call(state, "load")
    by_name = {c.name: c for c in state.companies}
    assert (by_name["Co 000"].health, by_name["Co 000"].moved_to) == ("warning", "ashby:b0")
    assert (by_name["Co 001"].health, by_name["Co 002"].health) == ("healthy", "unknown")
    call(state, "set_sort", "health")
    assert [c.name for c in state.companies] == ["Co 000", "Co 002", "Co 001"]
    call(state, "set_health_filter", "warning")
    assert [c.name for c in state.companies] == ["Co 000"]

    call(state, "apply_move", gone.id)
    assert state.message == "Co 000 now reads ashby:b0"
    session.expire_all()
    assert session.get(Company, gone.id).source == "ashby:b0"
    call(state, "set_health_filter", "all")
    assert {c.name: c.health for c in state.companies}["Co 000"] == "unknown"  # starts afresh
    call(state, "apply_move", other.id)  # nothing was found for it
    assert "nothing to apply" in state.list_error
