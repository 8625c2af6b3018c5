"""Stage 1 and 2 handlers: company CRUD with inline errors, demo companies, the dry run."""

from __future__ import annotations

from sqlmodel import select

from devtools.demo.data import ALL_KINDS
from devtools.demo.site import DemoSite
from ingest_app.core.models import Company
from ingest_app.core.pipeline.read_models import ListingError, PreviewResult
from ingest_app.states.companies import CompaniesState
from ingest_app.states.preview import PreviewState, apply_preview, error_text, preview_one
from ingest_app.states.rows import PreviewRow
from tests.support.demo import serving
from tests.support.settings import override_settings
from tests.ui.state_helpers import call, new_state


def _fill(state, name: str, kind: str, value: str) -> None:
    call(state, "open_add")
    call(state, "set_form_name", name)
    call(state, "set_form_kind", kind)
    call(state, "set_form_value", value)


def test_add_edit_disable_delete(session, make_user):
    state = new_state(CompaniesState, user_id=make_user().id)
    call(state, "load")
    _fill(state, "Acme", "careers", "https://acme.example/careers")
    call(state, "save")
    assert [(c.name, c.source_label, c.enabled) for c in state.companies] == [("Acme", "Careers page", True)]
    assert state.form_open is False and state.enabled_count == 1
    company_id = state.companies[0].id

    call(state, "open_edit", company_id)
    assert (state.form_name, state.form_kind, state.form_value) == ("Acme", "careers", "https://acme.example/careers")
    call(state, "set_form_name", "Acme Corp")
    call(state, "save")
    call(state, "set_enabled", company_id, False)
    assert [(c.name, c.enabled) for c in state.companies] == [("Acme Corp", False)]
    assert state.enabled_count == 0

    call(state, "delete", company_id)
    assert state.companies == []
    assert session.exec(select(Company)).all() == []


def test_invalid_input_is_explained_next_to_the_field_and_nothing_is_saved(session, make_user):
    state = new_state(CompaniesState, user_id=make_user().id)
    call(state, "load")

    _fill(state, "Acme", "careers", "ftp://acme.example")
    call(state, "save")
    assert "http:// or https://" in state.source_error and state.form_open is True

    _fill(state, "   ", "lever", "acme")
    call(state, "save")
    assert state.name_error == "Name must not be empty" and state.source_error == ""
    assert session.exec(select(Company)).all() == []


def test_a_duplicate_source_is_refused_at_the_source_field(make_user):
    state = new_state(CompaniesState, user_id=make_user().id)
    _fill(state, "Acme", "ashby", "acme")
    call(state, "save")
    _fill(state, "Acme again", "ashby", "acme")

    call(state, "save")

    assert "already track ashby:acme" in state.source_error
    assert len(state.companies) == 1


def test_demo_companies_button_follows_the_demo_site(make_user):
    state = new_state(CompaniesState, user_id=make_user().id)
    with override_settings({"DEMO_SITE_URL": None}):
        call(state, "load")
        assert state.demo_available is False
    with serving(DemoSite.default(rotate=False)) as demo, override_settings({"DEMO_SITE_URL": demo.base_url}):
        call(state, "load")
        assert state.demo_available is True
        call(state, "add_demo_companies")
        call(state, "add_demo_companies")
    assert len(state.companies) == 14  # one company per source family
    assert {row.source_kind for row in state.companies} == set(ALL_KINDS)
    assert state.message == "The demo companies are already in your list"


def test_demo_companies_say_so_when_the_demo_site_does_not_answer(make_user):
    state = new_state(CompaniesState, user_id=make_user().id)
    with override_settings({"DEMO_SITE_URL": "http://127.0.0.1:9", "CRAWLER_ALLOW_PRIVATE_HOSTS": "1"}):
        call(state, "add_demo_companies")
    assert state.list_error.startswith("The demo site's company list cannot be read")
    assert state.companies == []


def test_preview_lists_urls_per_company_and_reports_errors(session, make_user):
    user = make_user()
    site = DemoSite.default(rotate=False)
    with serving(site):
        good = Company(user_id=user.id, name="Northwind", source_kind="greenhouse", source_value="northwind")
        bad = Company(user_id=user.id, name="Nobody", source_kind="greenhouse", source_value="no-such-board")
        session.add_all([good, bad])
        session.commit()
        state = new_state(PreviewState, user_id=user.id)
        call(state, "load")
        assert [(r.name, r.done) for r in state._rows] == [("Nobody", False), ("Northwind", False)]

        rows = [apply_preview(row, preview_one(user.id, row.company_id)) for row in state._rows]

    by_name = {row.name: row for row in rows}
    assert by_name["Northwind"].count == 6 and by_name["Northwind"].error == ""
    assert sorted(by_name["Northwind"].urls) == sorted(site.listed_urls("northwind"))
    assert by_name["Nobody"].error.startswith("not_found: ") and by_name["Nobody"].count == 0
    assert all(row.done for row in rows)
    assert preview_one(user.id, 999_999).error == "This company no longer exists"
    listed = PreviewResult.of(company_id=1, name="", source="", urls=["u"])
    assert apply_preview(PreviewRow(company_id=1), listed).count == 1
    assert error_text(ListingError(kind="timeout", reason="no answer in 10 s")) == "timeout: no answer in 10 s"
    assert error_text("Preview failed: boom") == "Preview failed: boom" and error_text(None) == ""
