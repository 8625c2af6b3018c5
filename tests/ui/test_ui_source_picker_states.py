"""The add-company source picker offers every family with its URL field and example, and the dry
run (preview) lists each family's demo board; state level, against the demo site."""

from __future__ import annotations

from devtools.demo.data import ALL_KINDS
from devtools.demo.site import DemoSite
from ingest_app.core.crawl.sources import FAMILIES
from ingest_app.states.companies import VALUE_LABELS, CompaniesState
from ingest_app.states.preview import PreviewState, apply_preview, preview_one
from ingest_app.states.rows import SOURCE_LABELS
from tests.support.demo import serving
from tests.ui.state_helpers import call, new_state


def test_the_picker_offers_every_family_with_a_field_and_an_example(make_user):
    state = new_state(CompaniesState, user_id=make_user().id)
    call(state, "open_add")
    assert list(SOURCE_LABELS) == list(VALUE_LABELS) == [f.name for f in FAMILIES]
    assert set(SOURCE_LABELS) == set(ALL_KINDS)  # the demo site has one company per family
    for family in FAMILIES:
        call(state, "set_form_kind", family.name)
        assert state.form_kind == family.name
        assert state.value_label == family.value_label
        assert family.value_example in state.value_placeholder
        assert state.value_hint == f"Example: {family.example}"
        if family.name not in ("greenhouse", "lever", "ashby"):
            assert "URL" in state.value_label
    call(state, "set_form_kind", "monster")
    assert state.form_kind == "greenhouse"


def test_a_board_url_saved_from_the_dialog_is_stored_normalized(session, make_user):
    state = new_state(CompaniesState, user_id=make_user().id)
    call(state, "load")
    call(state, "open_add")
    call(state, "set_form_name", "Acme Freight")
    call(state, "set_form_kind", "workday")
    call(state, "set_form_value", "https://acmefreight.wd5.myworkdayjobs.com/en-US/External/job/Berlin/X_R-1")
    call(state, "save")
    assert state.source_error == "" and state.form_open is False
    row = state.companies[0]
    assert (row.source_kind, row.source_label) == ("workday", "Workday")
    assert row.source_value == "https://acmefreight.wd5.myworkdayjobs.com/External"

    call(state, "open_add")
    call(state, "set_form_name", "Broken")
    call(state, "set_form_kind", "recruitee")
    call(state, "set_form_value", "acme")
    call(state, "save")
    assert "board URL" in state.source_error and len(state.companies) == 1


def test_the_preview_lists_every_familys_demo_board(session, make_user):
    user = make_user()
    site = DemoSite.default(rotate=False)
    with serving(site) as server:
        companies = new_state(CompaniesState, user_id=user.id)
        for entry in server.company_sources():  # through the dialog, as a user adds them
            kind, value = entry["source"].split(":", 1)
            call(companies, "open_add")
            call(companies, "set_form_name", entry["name"])
            call(companies, "set_form_kind", kind)
            call(companies, "set_form_value", value)
            call(companies, "save")
            assert companies.source_error == "", entry
        preview = new_state(PreviewState, user_id=user.id)
        call(preview, "load")
        rows = [apply_preview(row, preview_one(user.id, row.company_id)) for row in preview._rows]

    assert len(rows) == len(ALL_KINDS)
    by_name = {row.name: row for row in rows}
    for company in site.companies.values():
        row = by_name[company.name]
        assert row.error == "", (company.kind, row.error)
        assert sorted(row.urls) == sorted(site.listed_urls(company.slug)) and row.count == len(row.urls) >= 5
        assert row.source.startswith(SOURCE_LABELS[company.kind] + " · ")
