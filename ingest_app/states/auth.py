"""Who is signed in: the token lives in the browser, every check happens on the backend."""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec

from ingest_app.core.db import session_scope
from ingest_app.core.security import AuthError, user_from_token

SIGN_IN_ROUTE = "/"


class AuthState(rx.State):
    """Base of every state that touches data: handlers call `_user_id()` before anything else."""

    token: str = rx.LocalStorage("", name="ingest_token", sync=True)
    user_email: str = ""

    def _user_id(self) -> int | None:
        """The id of the user the stored token belongs to, verified against the database now."""
        if not self.token:
            return None
        try:
            with session_scope() as session:
                user = user_from_token(session, self.token)
                if self.user_email != user.email:
                    self.user_email = user.email
                return user.id
        except AuthError:
            return None

    def _signed_out(self) -> EventSpec:
        """Forget the (missing, expired or forged) token and send the browser to sign-in."""
        self.token = ""
        self.user_email = ""
        return rx.redirect(SIGN_IN_ROUTE)

    @rx.event
    def require_user(self):
        """on_load of every signed-in page."""
        if self._user_id() is None:
            return self._signed_out()

    @rx.event
    def sign_out(self):
        return self._signed_out()
