"""Sign-in/register handlers and the auth guard every data handler runs first."""

from __future__ import annotations

import pytest
from sqlmodel import select

from ingest_app.accounts.security import create_access_token
from ingest_app.core.models import Company, IngestionRun, User
from ingest_app.states.companies import CompaniesState
from ingest_app.states.history import HistoryState
from ingest_app.states.jobs import JobsState
from ingest_app.states.preview import PreviewState
from ingest_app.states.run import RunState
from ingest_app.states.sign_in import REGISTER_FAILED, SignInState
from tests.ui.state_helpers import call, new_state, redirect_target, scripts

BAD_TOKENS = ["", "not-a-jwt", create_access_token(999_999).access_token]
PASSWORD = "right-pass-1"


def _company(session, user, name="Acme", value="acme") -> Company:
    company = Company(user_id=user.id, name=name, source_kind="greenhouse", source_value=value)
    session.add(company)
    session.commit()
    return company


def test_register_signs_in_and_lands_on_companies(session):
    state = new_state(SignInState)
    call(state, "set_mode", "register")

    result = call(state, "submit", {"email": "New@Example.com", "password": "s3cret-passw0rd"})

    assert redirect_target(result) == "/companies"
    assert state._auth_user_id and state.user_email == "new@example.com"
    assert session.exec(select(User).where(User.email == "new@example.com")).one()


@pytest.mark.parametrize(
    ("email", "password", "field", "message"),
    [
        ("not-an-email", "s3cret-passw0rd", "email_error", "valid email"),
        ("a@example.com", "short1", "password_error", "at least 12"),
        ("a@example.com", "lettersonlytoo", "password_error", "mix letters"),
        ("a@example.com", "password1234", "password_error", "most common"),
        ("a@example.com", " " * 14, "password_error", "only spaces"),
    ],
)
def test_register_explains_invalid_input_next_to_the_field(email, password, field, message):
    state = new_state(SignInState)
    call(state, "set_mode", "register")

    assert call(state, "submit", {"email": email, "password": password}) is None

    assert message in getattr(state, field)
    assert state._auth_user_id == 0


def test_register_with_a_taken_email_does_not_say_it_is_taken(make_user):
    make_user(email="taken@example.com")
    state = new_state(SignInState)
    call(state, "set_mode", "register")

    call(state, "submit", {"email": "taken@example.com", "password": "s3cret-passw0rd"})

    assert "already exists" not in state.email_error + state.form_error
    assert state.form_error == REGISTER_FAILED and state._auth_user_id == 0


def test_wrong_password_is_a_form_error_and_no_token(make_user):
    make_user(email="me@example.com", password="right-pass-1")
    state = new_state(SignInState)

    assert call(state, "submit", {"email": "me@example.com", "password": "wrong-pass-1"}) is None

    assert state.form_error == "Wrong email or password" and state._auth_user_id == 0


def test_sign_in_with_an_active_run_lands_on_its_progress(session, make_user):
    user = make_user(email="me@example.com", password="right-pass-1")
    session.add(IngestionRun(user_id=user.id, status="ingesting", current_stage=4, companies=[]))
    session.commit()
    state = new_state(SignInState)

    result = call(state, "submit", {"email": "me@example.com", "password": "right-pass-1"})

    assert redirect_target(result) == "/run"
    assert state.user_email == "me@example.com"


def test_a_stored_session_survives_a_reload(make_user):
    user = make_user()
    state = new_state(SignInState, user_id=user.id)

    assert redirect_target(call(state, "redirect_if_signed_in")) == "/companies"
    assert state.user_email == user.email


@pytest.mark.parametrize("token", BAD_TOKENS, ids=["missing", "garbage", "deleted-user"])
def test_data_handlers_refuse_a_bad_token_change_nothing_and_redirect(session, make_user, token):
    owner = make_user()
    company = _company(session, owner)
    session.add(IngestionRun(user_id=owner.id, status="ingesting", current_stage=4, companies=[]))
    session.commit()
    run_id = session.exec(select(IngestionRun.run_id)).one()

    companies = new_state(CompaniesState, token=token)
    companies.form_name, companies.form_value = "Evil", "evil"
    results = [
        call(companies, "load"),
        call(companies, "save"),
        call(companies, "set_enabled", company.id, False),
        call(companies, "delete", company.id),
        call(companies, "add_demo_companies"),
    ]
    preview = new_state(PreviewState, token=token)
    results += [call(preview, "load"), call(preview, "start")]
    run = new_state(RunState, token=token)
    run.run_id, run.polling = run_id, True
    results += [call(run, "tick"), call(run, "confirm_reset")]
    assert run.polling is False
    run.run_id = run_id
    results += [call(run, "load")]
    results += [call(new_state(HistoryState, token=token), "load")]
    jobs = new_state(JobsState, token=token, url="http://localhost:3000/jobs?q=a")
    results += [call(jobs, "load"), call(jobs, "set_query", "x"), call(jobs, "set_show_archived", True)]

    assert [redirect_target(r) for r in results] == ["/"] * len(results)
    session.expire_all()
    assert [(c.name, c.enabled) for c in session.exec(select(Company)).all()] == [("Acme", True)]
    assert [r.status for r in session.exec(select(IngestionRun)).all()] == ["ingesting"]
    assert companies.companies == [] and jobs.jobs == [] and companies._auth_user_id == 0


def test_another_users_company_cannot_be_changed(session, make_user):
    owner, intruder = make_user(), make_user()
    company = _company(session, owner)
    state = new_state(CompaniesState, user_id=intruder.id)

    call(state, "set_enabled", company.id, False)
    call(state, "delete", company.id)
    call(state, "open_edit", company.id)

    session.expire_all()
    assert session.get(Company, company.id).enabled is True
    assert state.list_error == "That company no longer exists"
    assert state.companies == [] and state.form_open is False


def test_sign_out_forgets_the_session(make_user):
    state = new_state(CompaniesState, user_id=make_user().id)
    call(state, "load")

    result = call(state, "sign_out")

    assert any("window.location.replace" in js for js in scripts(result))
    assert state._auth_user_id == 0 and state.user_email == ""
