"""Who is signed in, decided on the backend for every event.

A UI session belongs to one browser, not to a client token: the client token travels in the
websocket URL (proxy logs hold it), so it alone must never act as the user.

- Signing in binds the state tree to the user *and to the socket* that signed in, and the browser
  keeps the token in an HttpOnly cookie (set through `POST /api/auth/session`; page scripts cannot
  read it and it is in no URL).
- `SessionBinding`, a state middleware, runs before every event (the hydrate that sends the whole
  state included). An event from another socket (a reload, a new tab, or someone presenting the
  client token) is accepted only if that socket's handshake carried a session cookie of the bound
  user; otherwise every substate is cleared first, so nothing of the user reaches that socket.
- The state keeps no token: only the user id, the token version and the socket id. Signing out
  increments the user's token version (every token is revoked), clears every substate, clears the
  cookie and makes the browser start over with a new client token.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any, TypeVar

import reflex as rx
from reflex.istate.proxy import StateProxy
from reflex.middleware import Middleware
from reflex.state import BaseState

from ingest_app import routes
from ingest_app.accounts.security import AuthError, revoke_tokens, user_from_token
from ingest_app.core.db import session_scope
from ingest_app.core.models import User
from ingest_app.core.settings import get_settings

SIGN_IN_ROUTE = routes.SIGN_IN
# A Cookie header longer than this is not ours to parse (the server caps headers anyway).
_MAX_COOKIE_HEADER = 8192

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class SessionUser:
    user_id: int
    email: str
    version: int


def user_for_token(token: str) -> SessionUser | None:
    """The live user of a session cookie's token (blocking: call it in a thread)."""
    try:
        with session_scope() as session:
            user = user_from_token(session, token)
            return SessionUser(int(user.id), user.email, user.token_version or 0)
    except AuthError:
        return None


def live_email(user_id: int, version: int) -> str | None:
    """The user's email if the user exists and has not signed out since (blocking)."""
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None or (user.token_version or 0) != version:
            return None
        return user.email


def revoke_all_tokens(user_id: int) -> None:
    with session_scope() as session:
        revoke_tokens(session, user_id)


def session_cookie(cookie_header: str) -> str:
    """The session cookie's value in a Cookie header ('' when absent or unreadable)."""
    if not cookie_header or len(cookie_header) > _MAX_COOKIE_HEADER:
        return ""
    jar = SimpleCookie()
    try:
        jar.load(cookie_header)
    except CookieError:
        return ""
    morsel = jar.get(get_settings().session_cookie_name)
    return morsel.value if morsel is not None else ""


# Host names that the frontend replaces with the page's own host name when it connects its
# websocket (Reflex's `getBackendURL` in .web/utils/state.js): with API_URL=http://localhost:8000, a
# page opened at http://127.0.0.1:3000 talks to 127.0.0.1:8000.
_PAGE_HOST_NAMES = ["localhost", "0.0.0.0", "::", "0:0:0:0:0:0:0:0"]


def _session_url_js() -> str:
    """A JS expression: the session route on the host the websocket connects to, resolved in the
    browser the way Reflex resolves the websocket's address. The cookie is kept by that host only,
    and localhost and 127.0.0.1 are different sites for a SameSite=Strict cookie."""
    url = rx.config.get_config().api_url.rstrip("/") + "/api/auth/session"
    return (
        f"(() => {{ const u = new URL({json.dumps(url)}); "
        f"if ({json.dumps(_PAGE_HOST_NAMES)}.includes(u.hostname)) {{ u.hostname = window.location.hostname; "
        "if (window.location.protocol === 'https:') { u.protocol = 'https:'; u.port = ''; } } "
        "return u.href; })()"
    )


def keep_session_cookie_script(token: str) -> str:
    """Browser script: hand the new token to the backend, which keeps it as an HttpOnly cookie."""
    return (
        f"fetch({_session_url_js()}, {{method: 'POST', credentials: 'include', "
        f"headers: {{Authorization: {json.dumps('Bearer ' + token)}}}}}).catch(() => null)"
    )


def start_over_script() -> str:
    """Browser script: drop the session cookie, then reload with a new client token."""
    return (
        f"fetch({_session_url_js()}, {{method: 'DELETE', credentials: 'include'}})"
        ".catch(() => null).finally(() => { window.sessionStorage.removeItem('token'); "
        f"window.location.replace({json.dumps(SIGN_IN_ROUTE)}); }})"
    )


def signed_in(fn: F) -> F:
    """Run the handler only for a signed-in session; otherwise forget the session and go to
    sign-in. The handler reads the user as `self._auth_user_id`. A plain (non-async) handler runs
    in a worker thread, so its queries never block the event loop. Under a background event
    (`@rx.event(background=True)`) the check takes the state's lock for itself, so the handler
    reads `self._auth_user_id` inside its own `async with self`."""

    blocking = not inspect.iscoroutinefunction(fn)

    @functools.wraps(fn)
    async def guarded(self: AuthState, *args: Any, **kwargs: Any) -> Any:
        if isinstance(self, StateProxy):  # a background event: the check holds the state's lock
            async with self:
                if await self._current_user_id() is None:
                    return await self._signed_out()
        elif await self._current_user_id() is None:
            return await self._signed_out()
        if blocking:  # a plain handler queries the database: run it off the event loop
            return await asyncio.to_thread(fn, self, *args, **kwargs)
        result = fn(self, *args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    return guarded  # type: ignore[return-value]


class AuthState(rx.State):
    """Base of every state that touches data: its handlers are `@signed_in`."""

    user_email: str = ""
    _auth_user_id: int = 0
    _auth_version: int = 0
    _auth_sid: str = ""

    def _socket_id(self) -> str:
        return self.router.session.session_id or ""

    async def _current_user_id(self) -> int | None:
        """The signed-in user, checked now against the database (deleted or signed out: None)."""
        if not self._auth_user_id or self._auth_sid != self._socket_id():
            return None
        email = await asyncio.to_thread(live_email, self._auth_user_id, self._auth_version)
        if email is None:
            return None
        if self.user_email != email:
            self.user_email = email
        return self._auth_user_id

    def _bind(self, user: SessionUser) -> None:
        self._auth_user_id, self._auth_version, self._auth_sid = user.user_id, user.version, self._socket_id()
        self.user_email = user.email

    async def _clear_every_substate(self) -> None:
        """Reset the whole tree of data states (each is loaded first, whatever the state manager)."""
        root = self._get_root_state()
        for cls in _data_state_classes():
            await root.get_state(cls)
        auth = await root.get_state(AuthState)
        auth.reset()

    async def _bind_socket(self) -> None:
        """SessionBinding's check for this event's socket (see the module docstring)."""
        socket_id = self._socket_id()
        if self._auth_user_id and self._auth_sid == socket_id:
            return
        token = session_cookie(self.router.headers.cookie)
        user = await asyncio.to_thread(user_for_token, token) if token else None
        if user is not None and user.user_id == self._auth_user_id and user.version == self._auth_version:
            self._auth_sid = socket_id  # the same browser on a new socket (a reload)
            return
        if self._auth_user_id or self.user_email:
            await self._clear_every_substate()
        if user is not None:
            self._bind(user)

    async def _signed_out(self) -> Any:
        """Forget the (missing, expired, revoked or foreign) session and send the browser to sign-in."""
        await self._clear_every_substate()
        return rx.redirect(SIGN_IN_ROUTE)

    @rx.event
    @signed_in
    async def require_user(self) -> None:
        """on_load of every signed-in page."""

    @rx.event
    async def sign_out(self):
        user_id = self._auth_user_id if self._auth_sid == self._socket_id() else 0
        if user_id:
            await asyncio.to_thread(revoke_all_tokens, user_id)
        await self._clear_every_substate()
        return rx.call_script(start_over_script())


def _data_state_classes() -> list[type[BaseState]]:
    found: list[type[BaseState]] = []
    pending = list(AuthState.get_substates())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.get_substates())
    return found


class SessionBinding(Middleware):
    """Before every event: a socket that is not the bound one gets the user's data only if its
    handshake carried the user's session cookie (AuthState._bind_socket)."""

    async def preprocess(self, app: Any, state: BaseState, event: Any) -> None:
        root = state._get_root_state()
        auth = await root.get_state(AuthState)
        await auth._bind_socket()
        return None
