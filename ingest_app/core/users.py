"""Accounts: registration rules and sign-in."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ingest_app.core.models import User
from ingest_app.core.security import dummy_verify, hash_password, verify_password

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserError(ValueError):
    """Invalid registration input; the message says which rule failed."""


class EmailTaken(UserError):
    pass


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if len(email) > 320 or "\x00" in email or not _EMAIL_RE.match(email):
        raise UserError("Enter a valid email address")
    return email


def password_problem(password: str) -> str | None:
    """The first password rule that `password` breaks, or None."""
    if "\x00" in password:
        return "Password must not contain NUL characters"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters long"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be at most {MAX_PASSWORD_LENGTH} characters long"
    if password.isdigit() or password.isalpha():
        return "Password must mix letters with digits or symbols"
    return None


def get_user_by_email(session: Session, email: str) -> User | None:
    try:
        email = normalize_email(email)
    except UserError:
        return None
    return session.exec(select(User).where(User.email == email)).first()


def create_user(session: Session, *, email: str, password: str) -> User:
    email = normalize_email(email)
    problem = password_problem(password or "")
    if problem:
        raise UserError(problem)
    if get_user_by_email(session, email) is not None:
        raise EmailTaken("An account with this email already exists")
    user = User(email=email, password_hash=hash_password(password))
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent registration won the race
        session.rollback()
        raise EmailTaken("An account with this email already exists") from exc
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The user for these credentials, or None; similar timing whether or not the email exists."""
    user = get_user_by_email(session, email)
    if user is None:
        dummy_verify(password or "")
        return None
    if not verify_password(password or "", user.password_hash):
        return None
    return user
