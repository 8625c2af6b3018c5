"""Sign in and register; errors are shown next to the field they concern."""

from __future__ import annotations

from typing import Any

import reflex as rx

from ingest_app.core import pipeline
from ingest_app.core.db import session_scope
from ingest_app.core.security import create_access_token
from ingest_app.core.users import EmailTaken, UserError, authenticate, create_user, normalize_email
from ingest_app.states.auth import AuthState


def landing_route(user_id: int) -> str:
    """Where a signed-in user starts: the active run if there is one, else the companies."""
    with session_scope() as session:
        active = pipeline.get_active_run(session, user_id)
    return "/run" if active is not None else "/companies"


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
    def redirect_if_signed_in(self):
        """on_load of the sign-in page: a valid stored session skips the form."""
        user_id = self._user_id()
        if user_id is not None:
            return rx.redirect(landing_route(user_id))

    @rx.event
    def submit(self, form_data: dict[str, Any]):
        self._clear_errors()
        email = str(form_data.get("email") or "")
        password = str(form_data.get("password") or "")
        if self.mode == "register":
            return self._register(email, password)
        return self._sign_in(email, password)

    def _sign_in(self, email: str, password: str):
        if not email.strip():
            self.email_error = "Enter your email address"
            return None
        if not password:
            self.password_error = "Enter your password"
            return None
        with session_scope() as session:
            user = authenticate(session, email=email, password=password)
            user_id = user.id if user is not None else None
            user_email = user.email if user is not None else ""
        if user_id is None:
            self.form_error = "Wrong email or password"
            return None
        return self._signed_in(user_id, user_email)

    def _register(self, email: str, password: str):
        try:
            with session_scope() as session:
                user = create_user(session, email=email, password=password)
                user_id, user_email = user.id, user.email
        except EmailTaken as exc:
            self.email_error = str(exc)
            return None
        except UserError as exc:
            try:
                normalize_email(email)
            except UserError:
                self.email_error = str(exc)
            else:
                self.password_error = str(exc)
            return None
        return self._signed_in(user_id, user_email)

    def _signed_in(self, user_id: int, user_email: str):
        self.token = create_access_token(user_id).access_token
        self.user_email = user_email
        return rx.redirect(landing_route(user_id))
