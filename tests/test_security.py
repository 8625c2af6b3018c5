"""Password hashing and JWTs: the ways a credential must be refused."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from ingest_app.accounts import security
from ingest_app.accounts.security import AuthError, create_access_token, decode_access_token, user_from_token
from ingest_app.accounts.users import UserError, authenticate, create_user
from ingest_app.core.settings import get_settings


def test_passwords_are_hashed_with_argon2_and_verified():
    hashed = security.hash_password("s3cret-pass")
    assert hashed.startswith("$argon2")
    assert security.verify_password("s3cret-pass", hashed)
    assert not security.verify_password("wrong-pass", hashed)
    assert not security.verify_password("s3cret-pass", "not-a-hash")


def test_wrong_password_and_unknown_email_both_fail_authentication(session, make_user):
    user = make_user(email="ada@example.com", password="analytical-1")
    assert authenticate(session, email="ADA@example.com ", password="analytical-1").id == user.id
    assert authenticate(session, email="ada@example.com", password="analytical-2") is None
    assert authenticate(session, email="nobody@example.com", password="analytical-1") is None


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", "abcdefg1-2345", "valid email"),
        ("a@b.co", "short1", "at least 12"),
        ("a@b.co", "password1", "at least 12"),
        ("a@b.co", " " * 16, "only spaces"),
        ("a@b.co", "onlyletterstoo", "mix"),
        ("a@b.co", "qwertyuiop!!", "most common"),
        ("a\x00@b.co", "abcdefg1-2345", "valid email"),
        ("a@b.co", "abc\x00defg1-2345", "NUL"),
    ],
)
def test_registration_rules_say_which_rule_failed(session, email, password, message):
    with pytest.raises(UserError, match=message):
        create_user(session, email=email, password=password)


def test_token_round_trip_returns_the_user(session, make_user):
    user = make_user()
    token = create_access_token(user.id)
    assert token.token_type == "bearer"
    assert decode_access_token(token.access_token) == user.id
    assert user_from_token(session, token.access_token).id == user.id


def test_tampered_token_is_refused(make_user):
    user = make_user()
    token = create_access_token(user.id).access_token
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(user.id + 1)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(AuthError, match="Invalid token"):
        decode_access_token(f"{header}.{forged}.{signature}")


def test_token_signed_with_another_secret_is_refused():
    token = jwt.encode(
        {"sub": "1", "exp": datetime.now(timezone.utc) + timedelta(hours=1)}, "other-secret-" * 4, algorithm="HS256"
    )
    with pytest.raises(AuthError):
        decode_access_token(token)


def test_expired_token_is_refused(make_user):
    user = make_user()
    old = datetime.now(timezone.utc) - timedelta(hours=2)
    token = create_access_token(user.id, expires_minutes=60, now=old).access_token
    with pytest.raises(AuthError, match="expired"):
        decode_access_token(token)


def test_alg_none_token_is_refused():
    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    exp = int((datetime.now(timezone.utc) + timedelta(hours=1)).timestamp())
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({'sub': '1', 'exp': exp})}."
    with pytest.raises(AuthError):
        decode_access_token(unsigned)


def test_token_without_expiry_is_refused():
    token = jwt.encode({"sub": "1"}, get_settings().jwt_secret, algorithm="HS256")
    with pytest.raises(AuthError):
        decode_access_token(token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x"])
def test_garbage_tokens_are_refused(garbage):
    with pytest.raises(AuthError):
        decode_access_token(garbage)


def test_token_of_a_deleted_user_is_refused(session, make_user):
    user = make_user()
    token = create_access_token(user.id).access_token
    session.delete(user)
    session.commit()
    with pytest.raises(AuthError):
        user_from_token(session, token)


def test_db_upgrade_does_not_print_the_database_password_when_it_cannot_connect(tmp_path):
    import os
    import subprocess
    import sys

    from ingest_app.core.settings import PROJECT_ROOT

    password = "S3cret-db-Passw0rd"
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    env = {**os.environ, "DATABASE_URL": f"postgresql://ingest:{password}@127.0.0.1:1/jobs", "PGCONNECT_TIMEOUT": "3"}
    done = subprocess.run(
        [sys.executable, "-m", "ingest_app", "db", "upgrade"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert password not in done.stdout + done.stderr
    assert "cannot reach the database" in done.stderr and "ingest:***@127.0.0.1:1/jobs" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
