"""Sign in and register; errors are shown next to the field they concern.

Both go through the same core functions and rate limits as the REST routes, and hash passwords in
a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import reflex as rx

from ingest_app import routes
from ingest_app.accounts.ratelimit import RateLimited
from ingest_app.accounts.security import issue_token_for
from ingest_app.accounts.users import (
    MAX_EMAIL_LENGTH,
    MAX_PASSWORD_LENGTH,
    UserError,
    register,
    sign_in,
)
from ingest_app.core import pipeline
from ingest_app.core.db import session_scope
from ingest_app.core.models import User
from ingest_app.states.auth import AuthState, SessionUser, keep_session_cookie_script

NOT_SIGNED_IN = "Wrong email or password"
# Registering an email that already has an account answers like a sign-in with those details, so
# the form never says which emails are registered.
REGISTER_FAILED = "Could not sign you in with these details. If you already have an account, sign in with its password"


def landing_route(user_id: int) -> str:
    """Where a signed-in user starts: the active run if there is one, else the companies."""
    with session_scope() as session:
        active = pipeline.get_active_run(session, user_id)
    return routes.RUN if active is not None else routes.COMPANIES


@dataclass(frozen=True)
class Outcome:
    user: SessionUser
    token: str
    landing: str


def _outcome(user: User) -> Outcome:
    session_user = SessionUser(int(user.id), user.email, user.token_version or 0)
    return Outcome(session_user, issue_token_for(user).access_token, landing_route(session_user.user_id))


def sign_in_blocking(email: str, password: str, address: str) -> Outcome | None:
    with session_scope() as session:
        user = sign_in(session, email=email, password=password, address=address)
    return _outcome(user) if user is not None else None


def register_blocking(email: str, password: str, address: str) -> Outcome | None:
    with session_scope() as session:
        user = register(session, email=email, password=password, address=address)
    if user is not None:
        return _outcome(user)
    # The email has an account: these details sign in only if they are that account's.
    return sign_in_blocking(email, password, address)


def wait_message(exc: RateLimited) -> str:
    return f"{exc} (in {exc.retry_after_seconds} s)"


class SignInState(AuthState):
    mode: str = "sign_in"
    email_error: str = ""
    password_error: str = ""
    form_error: str = ""
    submitting: bool = False

    def _clear_errors(self) -> None:
        self.email_error = self.password_error = self.form_error = ""

    @rx.event
    def set_mode(self, mode: str | list[str]) -> None:
        self.mode = "register" if mode == "register" else "sign_in"
        self._clear_errors()

    @rx.event
    async def redirect_if_signed_in(self):
        """on_load of the sign-in page: a valid session (this socket's cookie) skips the form."""
        user_id = await self._current_user_id()
        if user_id is not None:
            return rx.redirect(await asyncio.to_thread(landing_route, user_id))
        return None

    def _valid_input(self, email: str, password: str) -> bool:
        if not email.strip():
            self.email_error = "Enter your email address"
        elif len(email) > MAX_EMAIL_LENGTH:
            self.email_error = f"An email address has at most {MAX_EMAIL_LENGTH} characters"
        if not password:
            self.password_error = "Enter your password"
        elif len(password) > MAX_PASSWORD_LENGTH:
            self.password_error = f"A password has at most {MAX_PASSWORD_LENGTH} characters"
        return not (self.email_error or self.password_error)

    @rx.event
    async def submit(self, form_data: dict[str, Any]):
        self._clear_errors()
        email = str(form_data.get("email") or "")
        password = str(form_data.get("password") or "")
        if not self._valid_input(email, password):
            return None
        address = self.router.session.client_ip or "unknown"
        registering = self.mode == "register"
        try:
            if registering:
                outcome = await asyncio.to_thread(register_blocking, email, password, address)
            else:
                outcome = await asyncio.to_thread(sign_in_blocking, email, password, address)
        except RateLimited as exc:
            self.form_error = wait_message(exc)
            return None
        except UserError as exc:
            if exc.field == "email":
                self.email_error = str(exc)
            else:
                self.password_error = str(exc)
            return None
        if outcome is None:
            self.form_error = REGISTER_FAILED if registering else NOT_SIGNED_IN
            return None
        await self._clear_every_substate()  # nothing of an earlier session stays in this tab
        self._bind(outcome.user)
        # With a callback the browser awaits the script's promise before the next event, so the
        # cookie is in place before the redirect (and any reload after it).
        keep_cookie = rx.call_script(keep_session_cookie_script(outcome.token), callback=rx.call_script("null"))
        return [keep_cookie, rx.redirect(outcome.landing)]
