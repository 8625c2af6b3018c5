"""Add by URL ("Detect") and the bulk import, against the local demo site: the board behind a
pasted URL fills the dialog; pasted rows are checked one by one, duplicates and errors named, and
only the ticked new rows are added; the export reads back."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from devtools.demo.site import DemoSite
from ingest_app.core.company_import import parse_rows
from ingest_app.core.models import Company
from ingest_app.states.companies import CompaniesState, detect_board
from ingest_app.states.company_import import ImportState, check_rows, export, preview_row
from tests.support.demo import serving
from tests.ui.state_helpers import call, new_state


def test_detect_fills_the_dialog_from_the_board_behind_a_url(make_user):
    user = make_user()
    site = DemoSite.default(rotate=False)
    with serving(site) as demo:
        url = f"{demo.base_url}/careers/juniper/"
        proposals, error = asyncio.run(detect_board(user.id, url))
        nothing, why = asyncio.run(detect_board(user.id, f"{demo.base_url}/no/such/page"))
    assert error == "" and [(p.source, p.name, p.jobs_listed) for p in proposals] == [
        (f"careers:{url}", "Juniper Health", len(site.listed_urls("juniper")))
    ]
    assert nothing == [] and why.endswith("enter the source below instead")

    state = new_state(CompaniesState, user_id=user.id)
    call(state, "open_add")
    state.proposals = proposals
    call(state, "use_proposal", proposals[0].source)
    assert (state.form_kind, state.form_value, state.form_name) == ("careers", url, "Juniper Health")
    call(state, "save")
    assert state.source_error == "" and [c.name for c in state.companies] == ["Juniper Health"]


def test_pasted_rows_are_checked_then_only_the_ticked_new_ones_are_added(session, make_user):
    user = make_user()
    site = DemoSite.default(rotate=False)
    with serving(site) as demo:
        session.add(Company(user_id=user.id, name="Northwind", source_kind="greenhouse", source_value="northwind"))
        session.commit()
        text = "\n".join(
            [
                f"{demo.base_url}/careers/juniper/",
                f"{demo.base_url}/pinpoint/cedar",
                "greenhouse:northwind",
                "ftp://nowhere.example/jobs",
            ]
        )
        assert len(parse_rows(text)) == 4
        outcomes, error = check_rows(user.id, text)
        assert check_rows(user.id, "  \n ")[1].startswith("Paste at least one")
        state = new_state(ImportState, user_id=user.id)
        state.text, state._outcomes = text, outcomes
        state.rows = [preview_row(o) for o in outcomes]
        assert error == "" and [r.status for r in state.rows] == ["new", "new", "duplicate", "error"]
        assert [r.accepted for r in state.rows] == [True, True, False, False]
        assert state.rows[0].jobs_listed == str(len(site.listed_urls("juniper")))
        assert state.rows[3].note != ""
        call(state, "set_accepted", 2, False)  # the Cedar row is left out
        call(state, "set_accepted", 3, True)  # a duplicate cannot be ticked
        assert state.accepted_count == 1

        call(state, "commit")

    assert state.summary.startswith("Added 1 company")
    assert [r.status for r in state.rows][0] == "added"
    names = sorted(c.name for c in session.exec(select(Company).where(Company.user_id == user.id)).all())
    assert names == ["Juniper Health", "Northwind"]
    exported = export(user.id).splitlines()
    assert exported[0] == "name,source,enabled" and len(exported) == 3
    assert any(line.startswith("Juniper Health,careers:") for line in exported)
