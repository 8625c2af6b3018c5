"""UI sessions under attack: a stolen client token, sign-out, shared rate limits, state on disk,
and handlers that must not stall the event loop."""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import re
import stat
import time

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from ingest_app.accounts import ratelimit
from ingest_app.accounts.security import AuthError, user_from_token
from ingest_app.core.models import Company
from ingest_app.core.settings import get_settings
from ingest_app.states.companies import CompaniesState
from ingest_app.states.jobs import MAX_QUERY_CHARS, JobsState
from ingest_app.states.sign_in import SignInState
from ingest_app.states.storage import make_state_storage_private
from tests.ui.state_helpers import call, connect, cookie_header, new_state, redirect_target, scripts

PASSWORD = "right-pass-1"
REST_ADDRESS = "testclient"  # the peer address FastAPI's TestClient reports


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    ratelimit.reset_all()
    yield
    ratelimit.reset_all()


def _sign_in(state, email="victim@example.com", password=PASSWORD):
    result = call(state, "submit", {"email": email, "password": password})
    tokens = [m.group(1) for js in scripts(result) for m in [re.search(r'"Bearer ([^"]+)"', js)] if m]
    return result, (tokens[0] if tokens else "")


def _victim(session, make_user):
    user = make_user(email="victim@example.com", password=PASSWORD)
    session.add(Company(user_id=user.id, name="Victim Co", source_kind="greenhouse", source_value="victim"))
    session.commit()
    return user


def test_sign_in_hands_the_token_to_an_http_only_cookie_and_keeps_none_in_state(session, make_user):
    _victim(session, make_user)
    state = new_state(SignInState)

    result, token = _sign_in(state)

    assert redirect_target(result) == "/companies"
    assert token and user_from_token(session, token).email == "victim@example.com"
    assert any("/api/auth/session" in js and "credentials: 'include'" in js for js in scripts(result))
    pickled = b"".join(pickle.dumps(s) for s in _tree(state))
    assert token.encode() not in pickled  # no raw JWT in anything the state manager stores


def _tree(state):
    root = state._get_root_state()
    pending, found = [root], []
    while pending:
        node = pending.pop()
        found.append(node)
        pending.extend(node.substates.values())
    return found


def test_a_second_socket_with_only_the_client_token_reads_nothing_and_creates_nothing(session, make_user):
    victim = _victim(session, make_user)
    tab = new_state(SignInState, sid="victim-socket")
    _sign_in(tab)
    companies = tab._get_root_state().get_substate(CompaniesState.get_full_name().split("."))
    call(companies, "load")
    assert [c.name for c in companies.companies] == ["Victim Co"]

    # The victim closes the tab; someone presents the same client token on a socket of their own.
    connect(companies, "attacker-socket")

    assert companies.companies == [] and companies.user_email == ""  # what the hydrate would send
    companies.form_name, companies.form_value = "Evil", "evil"
    assert redirect_target(call(companies, "save")) == "/"
    assert redirect_target(call(companies, "load")) == "/" and companies.companies == []
    session.expire_all()
    assert [c.name for c in session.exec(select(Company).where(Company.user_id == victim.id))] == ["Victim Co"]


def test_a_reload_or_new_tab_with_the_session_cookie_stays_signed_in(session, make_user):
    _victim(session, make_user)
    tab = new_state(SignInState, sid="first-socket")
    _, token = _sign_in(tab)
    companies = tab._get_root_state().get_substate(CompaniesState.get_full_name().split("."))

    connect(companies, "reloaded-socket", cookie=cookie_header(token))  # same browser: cookie sent
    call(companies, "load")
    assert [c.name for c in companies.companies] == ["Victim Co"]

    other_tab = new_state(CompaniesState, token=token, sid="new-tab-socket")
    call(other_tab, "load")
    assert [c.name for c in other_tab.companies] == ["Victim Co"]


def test_another_users_cookie_on_the_tab_gets_none_of_the_first_users_data(session, make_user):
    _victim(session, make_user)
    other = make_user(email="other@example.com", password=PASSWORD)
    tab = new_state(SignInState, sid="s1")
    _sign_in(tab)
    companies = tab._get_root_state().get_substate(CompaniesState.get_full_name().split("."))
    call(companies, "load")
    other_token = _sign_in(new_state(SignInState, sid="x"), email="other@example.com")[1]

    connect(companies, "s2", cookie=cookie_header(other_token))

    assert companies.companies == [] and companies.user_email == other.email
    call(companies, "load")
    assert companies.companies == []


def test_sign_out_revokes_clears_every_substate_and_starts_over_with_a_new_client_token(session, make_user):
    _victim(session, make_user)
    tab = new_state(SignInState, sid="s1")
    _, token = _sign_in(tab)
    root = tab._get_root_state()
    companies = root.get_substate(CompaniesState.get_full_name().split("."))
    jobs = root.get_substate(JobsState.get_full_name().split("."))
    call(companies, "load")
    jobs.query = "secret search"

    result = call(companies, "sign_out")

    assert companies.companies == [] and jobs.query == "" and companies.user_email == ""
    js = " ".join(scripts(result))
    assert "sessionStorage.removeItem('token')" in js and "window.location.replace" in js
    assert "method: 'DELETE'" in js  # the cookie goes too
    with pytest.raises(AuthError):
        user_from_token(session, token)  # revoked, wherever it was copied to
    # A reload that still presents the old cookie (or the old client token) gets nothing.
    connect(companies, "s2", cookie=cookie_header(token))
    assert redirect_target(call(companies, "load")) == "/" and companies.companies == []


def test_ui_sign_in_shares_the_rest_rate_limit(session, make_user, monkeypatch):
    from ingest_app.api.main import api

    _victim(session, make_user)
    limit = get_settings().login_rate_limit_per_email
    tab = new_state(SignInState)
    connect(tab, "s1", client_ip=REST_ADDRESS)
    for _ in range(limit):
        call(tab, "submit", {"email": "victim@example.com", "password": "wrong-pass-123"})
        assert tab.form_error == "Wrong email or password"

    with TestClient(api) as client:
        r = client.post("/api/auth/token", json={"email": "victim@example.com", "password": PASSWORD})
    assert r.status_code == 429  # REST counts the UI's failures
    result = call(tab, "submit", {"email": "victim@example.com", "password": PASSWORD})
    assert redirect_target(result) is None and "Too many" in tab.form_error and tab._auth_user_id == 0


def test_ui_registration_shares_the_rest_registration_limit(settings):
    from ingest_app.api.main import api

    settings(register_rate_limit_per_address=2)
    with TestClient(api) as client:
        for i in range(2):
            body = {"email": f"r{i}@example.com", "password": PASSWORD}
            assert client.post("/api/auth/register", json=body).status_code == 201
    tab = new_state(SignInState)
    connect(tab, "s1", client_ip=REST_ADDRESS)
    call(tab, "set_mode", "register")

    call(tab, "submit", {"email": "r9@example.com", "password": PASSWORD})

    assert "Too many registrations" in tab.form_error and tab._auth_user_id == 0


def test_sign_in_handlers_hash_off_the_event_loop(make_user, caplog):
    """Before: each sign-in verified its argon2 hash on the loop, holding it for a whole hash
    (~0.1 s each; 40 queued sign-ins pushed REST latency to 1.9 s). Now no step of the loop takes
    more than a fraction of one hash: asyncio's debug mode reports every slower step."""
    from ingest_app.accounts.security import dummy_verify

    make_user(email="victim@example.com", password=PASSWORD)
    started = time.perf_counter()
    dummy_verify("x")
    one_hash = time.perf_counter() - started
    tabs = [new_state(SignInState, sid=f"s{i}") for i in range(4)]
    for i, tab in enumerate(tabs):
        connect(tab, f"s{i}", client_ip=f"192.0.2.{i}")

    async def scenario() -> None:
        asyncio.get_running_loop().slow_callback_duration = one_hash / 2
        await asyncio.gather(
            *(type(tab).submit.fn(tab, {"email": "victim@example.com", "password": "wrong-pass-123"}) for tab in tabs)
        )

    with caplog.at_level(logging.WARNING, logger="asyncio"):
        asyncio.run(scenario(), debug=True)

    assert all(tab.form_error == "Wrong email or password" for tab in tabs)
    slow_steps = [r.getMessage() for r in caplog.records if r.name == "asyncio" and "took" in r.getMessage()]
    assert slow_steps == [], (one_hash, slow_steps)


def test_a_125_kb_search_is_refused_at_once_with_a_message(make_user):
    """Before: the text went into the query as is; /api/me waited 22 s behind it."""
    state = new_state(JobsState, user_id=make_user().id)
    call(state, "set_query", "remote")
    assert state.query == "remote"

    started = time.perf_counter()
    call(state, "set_query", "a" * 125_000)

    assert time.perf_counter() - started < 1.0
    assert state.query == "remote" and str(MAX_QUERY_CHARS) in state.query_error


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [("email", "a" * 400 + "@example.com", "email_error"), ("password", "p1-" * 200, "password_error")],
)
def test_oversized_sign_in_fields_are_refused_before_any_work(field, value, error):
    state = new_state(SignInState)
    form = {"email": "a@example.com", "password": PASSWORD, field: value}

    call(state, "submit", form)

    assert "at most" in getattr(state, error) and state._auth_user_id == 0


def test_oversized_company_fields_are_refused_with_a_message(session, make_user):
    user = make_user()
    state = new_state(CompaniesState, user_id=user.id)
    call(state, "open_add")

    call(state, "save", {"name": "n" * 5000, "value": "acme"})
    assert "at most 200" in state.name_error
    call(state, "save", {"name": "Acme", "value": "a" * 125_000})
    assert "at most 2048" in state.source_error
    assert session.exec(select(Company)).all() == []


def test_the_state_directory_is_private(tmp_path):
    states = tmp_path / ".states"
    states.mkdir(mode=0o755)
    os.chmod(states, 0o755)

    make_state_storage_private(states)

    assert stat.S_IMODE(states.stat().st_mode) == 0o700
