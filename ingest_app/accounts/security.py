"""Password hashing (argon2 through the passlib API) and JWT issue/verify (PyJWT, HS256).

A token carries the user's `token_version` (claim `ver`); signing out increments the version, so
every token issued before is refused from then on, wherever it was copied to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt
import sqlalchemy as sa
from passlib.context import CryptContext
from sqlmodel import Session

from ingest_app.core.models import User
from ingest_app.core.settings import get_settings

pwd_context = CryptContext(schemes=["argon2"], deprecated="auto")


class AuthError(Exception):
    """A credential that must not be accepted; the message is safe to show."""


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    token_type: str = "bearer"


def hash_password(password: str) -> str:
    return pwd_context.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return pwd_context.verify(password, password_hash)
    except (ValueError, TypeError):
        return False


# Verifying against this when the email is unknown keeps the timing of both answers alike.
_DUMMY_HASH = pwd_context.hash("not-a-real-password-but-a-timing-guard")


def dummy_verify(password: str) -> None:
    verify_password(password, _DUMMY_HASH)


def create_access_token(
    user_id: int, *, version: int = 0, expires_minutes: int | None = None, now: datetime | None = None
) -> IssuedToken:
    settings = get_settings()
    minutes = expires_minutes if expires_minutes is not None else settings.jwt_expire_minutes
    issued = now or datetime.now(timezone.utc)
    payload = {"sub": str(user_id), "ver": int(version), "iat": issued, "exp": issued + timedelta(minutes=minutes)}
    token = jwt.encode(payload, settings.jwt_secret, algorithm=settings.jwt_algorithm)
    return IssuedToken(access_token=token, expires_in=minutes * 60)


def issue_token_for(user: User) -> IssuedToken:
    """A token of this user under its current token version."""
    return create_access_token(int(user.id), version=user.token_version or 0)


def decode_access_token(token: str) -> int:
    """The user id in a valid token; AuthError for anything else (expired, tampered, alg none...)."""
    return decode_token_claims(token)[0]


def decode_token_claims(token: str) -> tuple[int, int]:
    """(user id, token version) of a valid token; AuthError for anything else."""
    settings = get_settings()
    try:
        payload = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[settings.jwt_algorithm],
            options={"require": ["exp", "sub"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("Token has expired") from exc
    except jwt.PyJWTError as exc:
        raise AuthError("Invalid token") from exc
    try:
        return int(payload["sub"]), int(payload.get("ver", 0))
    except (TypeError, ValueError) as exc:
        raise AuthError("Invalid token") from exc


def user_from_token(session: Session, token: str) -> User:
    """The live user a token belongs to; a token of a deleted user, or one revoked by signing
    out, is refused."""
    user_id, version = decode_token_claims(token)
    user = session.get(User, user_id)
    if user is None or (user.token_version or 0) != version:
        raise AuthError("Invalid token")
    return user


def revoke_tokens(session: Session, user_id: int) -> None:
    """Sign out everywhere: every token this user holds stops working now."""
    session.execute(sa.update(User).where(User.id == user_id).values(token_version=User.token_version + 1))
    session.flush()
