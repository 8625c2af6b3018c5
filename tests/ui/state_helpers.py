"""Driving Reflex states under pytest: a real root state, handlers called directly.

A state tree stands for one browser tab (one client token). `connect(state, sid, cookie=...)`
makes the next events come from a websocket with that session id and handshake Cookie header,
and runs the app's SessionBinding middleware as the event processor does before every event.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from reflex.istate.data import ReflexURL, URLData
from reflex.state import BaseState, State

import ingest_app.ingest_app  # noqa: F401  (registers every page and state)
from ingest_app.accounts.security import issue_token_for
from ingest_app.core.db import session_scope
from ingest_app.core.models import User
from ingest_app.core.settings import get_settings
from ingest_app.states.auth import AuthState, SessionBinding, SessionUser

DEFAULT_SID = "sid-test"


def run(awaitable: Any) -> Any:
    return asyncio.run(awaitable) if inspect.isawaitable(awaitable) else awaitable


def token_for(user_id: int) -> str:
    with session_scope() as session:
        return issue_token_for(session.get(User, user_id)).access_token


def cookie_header(token: str) -> str:
    return f"{get_settings().session_cookie_name}={token}"


def set_socket(state: Any, sid: str, *, cookie: str = "", client_ip: str = "127.0.0.1") -> None:
    """The next events arrive on socket `sid`, whose handshake carried `cookie`."""
    root = state._get_root_state()
    router_data = {
        **root.router_data,
        "sid": sid,
        "ip": client_ip,
        "headers": {"cookie": cookie} if cookie else {},
    }
    root.router_data = root._update_router_vars(router_data, root.router_data)


def connect(state: Any, sid: str, *, cookie: str = "", client_ip: str = "127.0.0.1") -> None:
    """A (re)connect on socket `sid`, then the SessionBinding middleware of the app."""
    set_socket(state, sid, cookie=cookie, client_ip=client_ip)
    run(SessionBinding().preprocess(app=None, state=state._get_root_state(), event=None))


def new_state(
    cls: type[BaseState], *, user_id: int | None = None, token: str | None = None, url: str = "", sid: str = DEFAULT_SID
) -> Any:
    """A fresh state tree (as the app creates per browser tab) and the `cls` instance in it.

    `user_id`: the tab is signed in as that user (bound to socket `sid`). `token`: the socket's
    handshake carries this token as its session cookie (it signs in only if the token is valid).
    """
    root = State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split("."))
    if url:
        root.rx_router_url = URLData.from_url(ReflexURL(url))
    connect(state, sid, cookie=cookie_header(token) if token else "")
    if user_id is not None:
        with session_scope() as session:
            user = session.get(User, user_id)
            auth = root.get_substate(AuthState.get_full_name().split("."))
            auth._bind(SessionUser(int(user.id), user.email, user.token_version or 0))
    return state


def call(state: Any, handler_name: str, *args: Any) -> Any:
    """Run an event handler the way the app does (its function on the state instance), to the end."""
    return run(getattr(type(state), handler_name).fn(state, *args))


def redirect_target(result: Any) -> str | None:
    """The path of an `rx.redirect(...)` a handler returned (alone or in a list), else None."""
    if isinstance(result, list):
        targets = [redirect_target(item) for item in result]
        return next((t for t in targets if t is not None), None)
    if result is None or getattr(getattr(result, "handler", None), "fn", None) is None:
        return None
    if not result.handler.fn.__qualname__.endswith("_redirect"):
        return None
    for name, value in result.args:
        if getattr(name, "_js_expr", None) == "path":
            return value._var_value
    return None


def scripts(result: Any) -> list[str]:
    """The javascript of every `rx.call_script(...)` a handler returned."""
    items = result if isinstance(result, list) else [result]
    found = []
    for item in items:
        if getattr(getattr(item, "handler", None), "fn", None) is None:
            continue
        if item.handler.fn.__qualname__.endswith("call_script"):
            for name, value in item.args:
                if getattr(name, "_js_expr", None) == "javascript_code":
                    found.append(str(getattr(value, "_var_value", value)))
    return found
