"""Dependencies shared by the routes: a database session and the signed-in user."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from ingest_app.accounts.security import AuthError, user_from_token
from ingest_app.core.db import get_session, session_scope
from ingest_app.core.models import User

TOKEN_URL = "/api/auth/token"
T = TypeVar("T")

# auto_error=False: the 401 (with WWW-Authenticate) comes from our own AuthError handler.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)

# scope="function": the session commits before the response is sent, so a 2xx means it is stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
TokenDep = Annotated[str | None, Depends(oauth2_scheme)]


def get_current_user(session: SessionDep, token: TokenDep) -> User:
    if not token:
        raise AuthError("Not authenticated")
    return user_from_token(session, token)


CurrentUser = Annotated[User, Depends(get_current_user)]


def read_as_user(token: str | None, read: Callable[[Session, int], T]) -> T:
    """Authenticate and read in one session: the polled, read-only routes run this in a single
    worker-thread hop instead of one per dependency."""
    if not token:
        raise AuthError("Not authenticated")
    with session_scope() as session:
        return read(session, user_from_token(session, token).id)


def client_address(request: Request) -> str:
    """The peer address (behind a proxy, run the server with its forwarded-headers option)."""
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]
