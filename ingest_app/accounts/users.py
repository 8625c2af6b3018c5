"""Accounts: registration rules and sign-in (rate limited: one limiter for the REST API and the UI)."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ingest_app.accounts import ratelimit
from ingest_app.accounts.security import dummy_verify, hash_password, verify_password
from ingest_app.core.models import User

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
MAX_EMAIL_LENGTH = 320
# Only ever matched against bounded input (MAX_EMAIL_LENGTH); no nested quantifiers.
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# The passwords every guesser tries first (public top-password lists), compared after lower-casing
# and dropping trailing digits and symbols ("Password123!" counts as "password").
COMMON_PASSWORDS = frozenset(
    "password passw0rd p@ssw0rd qwerty qwertyuiop asdfghjkl zxcvbnm letmein welcome iloveyou "
    "admin administrator monkey dragon master sunshine princess football baseball superman batman "
    "trustno trustno1 whatever shadow michael jennifer jordan hunter ranger buster soccer hockey killer "
    "abc abcdef abcdefgh abcdefghijkl changeme changeit secret default login access starwars freedom "
    "computer internet correcthorsebatterystaple qazwsx qazwsxedc".split()
)


class UserError(ValueError):
    """Invalid registration input; the message says which rule failed and `field` which input
    ("email" or "password") it is about, so a form shows it next to that input."""

    def __init__(self, message: str, *, field: str):
        super().__init__(message)
        self.field = field


class EmailTaken(UserError):
    def __init__(self, message: str = "An account with this email already exists"):
        super().__init__(message, field="email")


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or "\x00" in email or not _EMAIL_RE.match(email):
        raise UserError("Enter a valid email address", field="email")
    return email


def _common_core(password: str) -> str:
    core = password.strip().lower()
    while core and not core[-1].isalpha():
        core = core[:-1]
    return core


def password_problem(password: str) -> str | None:
    """The first password rule that `password` breaks, or None."""
    if "\x00" in password:
        return "Password must not contain NUL characters"
    if not password.strip():
        return "Password must not be only spaces"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters long"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be at most {MAX_PASSWORD_LENGTH} characters long"
    if password.isdigit() or password.isalpha():
        return "Password must mix letters with digits or symbols"
    if len(set(password)) < 5:
        return "Password must not repeat the same few characters"
    if password.strip().lower() in COMMON_PASSWORDS or _common_core(password) in COMMON_PASSWORDS:
        return "Password is one of the most common passwords; choose another"
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
        raise UserError(problem, field="password")
    if get_user_by_email(session, email) is not None:
        dummy_verify(password)  # the same hashing cost as creating the account
        raise EmailTaken()
    user = User(email=email, password_hash=hash_password(password))
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent registration won the race
        session.rollback()
        raise EmailTaken() from exc
    return user


def register(session: Session, *, email: str, password: str, address: str) -> User | None:
    """Create an account behind the shared registration limit (RateLimited past it).

    A taken email gives None after the same work as a new one (a password hash), so neither the
    answer nor its timing says which emails have accounts: callers answer both alike.
    """
    ratelimit.begin_registration(address)
    try:
        return create_user(session, email=email, password=password)
    except EmailTaken:
        return None


def sign_in(session: Session, *, email: str, password: str, address: str) -> User | None:
    """`authenticate` behind the shared sign-in limits (RateLimited past them); None for wrong
    credentials."""
    ratelimit.begin_sign_in(email, address)
    user = authenticate(session, email=email, password=password)
    ratelimit.finish_sign_in(email, address, succeeded=user is not None)
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
