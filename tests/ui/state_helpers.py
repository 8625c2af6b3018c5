"""Driving Reflex states under pytest: a real root state, handlers called directly."""

from __future__ import annotations

from typing import Any

from reflex.istate.data import ReflexURL, URLData
from reflex.state import BaseState, State

import ingest_app.ingest_app  # noqa: F401  (registers every page and state)
from ingest_app.core.security import create_access_token


def new_state(cls: type[BaseState], *, user_id: int | None = None, token: str | None = None, url: str = "") -> Any:
    """A fresh state tree (as the app creates per browser tab) and the `cls` instance in it."""
    root = State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split("."))
    if user_id is not None:
        token = create_access_token(user_id).access_token
    if token is not None:
        state.token = token
    if url:
        root.rx_router_url = URLData.from_url(ReflexURL(url))
    return state


def call(state: Any, handler_name: str, *args: Any) -> Any:
    """Run an event handler the way the app does (its function on the state instance)."""
    return getattr(type(state), handler_name).fn(state, *args)


def redirect_target(result: Any) -> str | None:
    """The path of an `rx.redirect(...)` a handler returned, else None."""
    if result is None or getattr(getattr(result, "handler", None), "fn", None) is None:
        return None
    if not result.handler.fn.__qualname__.endswith("_redirect"):
        return None
    for name, value in result.args:
        if getattr(name, "_js_expr", None) == "path":
            return value._var_value
    return None
