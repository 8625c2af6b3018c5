"""The web edge under attack: body cap, CORS, framing, sign-out revocation, lockouts, caps."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ingest_app.accounts import ratelimit
from ingest_app.core.settings import get_settings
from tests.support.accounts import PASSWORD

CHUNK = 64 * 1024


def _asgi_post(app: Any, path: str, *, total: int, declare_length: bool) -> tuple[int, int, bytes]:
    """POST `total` bytes to the ASGI app in 64 KiB chunks; (status, bytes the app read, body)."""
    sent = 0
    messages: list[dict[str, Any]] = []
    headers = [(b"content-type", b"application/json"), (b"host", b"testserver")]
    if declare_length:
        headers.append((b"content-length", str(total).encode()))

    async def receive() -> dict[str, Any]:
        nonlocal sent
        size = min(CHUNK, total - sent)
        sent += size
        return {"type": "http.request", "body": b"x" * size, "more_body": sent < total}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "root_path": "",
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], sent, body


def test_a_declared_200_mb_body_is_refused_with_413_before_a_byte_is_read():
    from ingest_app.api.main import api

    status, read, body = _asgi_post(api, "/api/auth/token", total=200 * 1024 * 1024, declare_length=True)

    assert status == 413 and read == 0
    assert b"larger than" in body


def test_an_undeclared_200_mb_body_is_cut_off_at_the_cap():
    from ingest_app.api.main import api

    limit = get_settings().max_request_body_bytes
    status, read, body = _asgi_post(api, "/api/auth/token", total=200 * 1024 * 1024, declare_length=False)

    assert status == 413, body
    assert read <= limit + CHUNK  # before the cap: the whole 200 MB was read and parsed (422)


def test_bodies_under_the_cap_still_work(client, make_user):
    make_user(email="ada@example.com")
    r = client.post("/api/auth/token", json={"email": "ada@example.com", "password": PASSWORD})
    assert r.status_code == 200
    over = get_settings().max_request_body_bytes + 1024
    big = client.post("/api/companies", content=b"{" + b" " * over + b"}", headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and "larger than" in big.json()["detail"]


def test_every_response_forbids_framing_by_other_sites(client, alice):
    _, headers = alice
    for r in (client.get("/api/me", headers=headers), client.get("/api/me"), client.get("/api/openapi.json")):
        assert r.headers["content-security-policy"] == "frame-ancestors 'none'"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"


def _reflex_cors_app() -> Starlette:
    """A backend app with exactly the CORS middleware Reflex installs from rxconfig.py."""
    import reflex as rx

    app = Starlette(routes=[Route("/api/me", lambda request: PlainTextResponse("me"))])
    rx.App._add_cors(app)
    return app


def test_cors_grants_credentials_only_to_the_configured_frontend_origin():
    import reflex as rx

    origins = list(rx.config.get_config().cors_allowed_origins)
    assert "*" not in origins and origins
    with TestClient(_reflex_cors_app()) as c:
        evil = c.get("/api/me", headers={"Origin": "https://evil.example", "Cookie": "ingest_session=x"})
        assert "access-control-allow-origin" not in evil.headers
        preflight = c.options(
            "/api/me", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        )
        assert preflight.headers.get("access-control-allow-origin") != "https://evil.example"
        good = c.get("/api/me", headers={"Origin": origins[0], "Cookie": "ingest_session=x"})
        assert good.headers["access-control-allow-origin"] == origins[0]
        assert good.headers["access-control-allow-credentials"] == "true"


def test_sign_out_revokes_the_token_everywhere(client, make_user):
    make_user(email="ada@example.com")
    token = client.post("/api/auth/token", json={"email": "ada@example.com", "password": PASSWORD}).json()
    other = client.post("/api/auth/token", json={"email": "ada@example.com", "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/api/me", headers=headers).status_code == 200

    assert client.post("/api/auth/logout", headers=headers).status_code == 200

    assert client.get("/api/me", headers=headers).status_code == 401
    assert client.get("/api/me", headers={"Authorization": f"Bearer {other['access_token']}"}).status_code == 401
    fresh = client.post("/api/auth/token", json={"email": "ada@example.com", "password": PASSWORD}).json()
    assert client.get("/api/me", headers={"Authorization": f"Bearer {fresh['access_token']}"}).status_code == 200


def _sign_in_from(address: str, password: str) -> int:
    from ingest_app.api.main import api

    with TestClient(api, client=(address, 40000)) as c:
        return c.post("/api/auth/token", json={"email": "ada@example.com", "password": password}).status_code


def test_ten_wrong_passwords_lock_out_the_guessing_address_not_the_owner(make_user):
    make_user(email="ada@example.com")
    assert [_sign_in_from("203.0.113.9", "guess-1234567") for _ in range(10)] == [401] * 10

    assert _sign_in_from("203.0.113.9", PASSWORD) == 429  # the guesser waits the window out
    assert _sign_in_from("198.51.100.7", PASSWORD) == 200  # the owner, elsewhere, signs in at once


def test_a_distributed_guesser_only_slows_the_email_down(make_user, monkeypatch, settings):
    now = [5000.0]
    for limiter in (ratelimit.login_by_email, ratelimit.login_failures_by_email, ratelimit.login_email_cooldown):
        monkeypatch.setattr(limiter, "_clock", lambda: now[0])
    settings(login_failures_per_email_total=20)
    make_user(email="ada@example.com")
    for i in range(20):  # 20 addresses, one guess each
        assert _sign_in_from(f"203.0.113.{i}", "guess-1234567") == 401

    # Past the email-wide count every address gets one attempt per cooldown, the owner's too:
    assert _sign_in_from("198.51.100.7", PASSWORD) == 200
    assert _sign_in_from("203.0.113.50", "guess-1234567") == 401
    assert _sign_in_from("203.0.113.50", "guess-1234567") == 429
    now[0] += get_settings().login_email_cooldown_seconds
    assert _sign_in_from("203.0.113.50", "guess-1234567") == 401


def test_the_session_cookie_is_http_only_and_needs_a_valid_bearer_token(client, alice):
    user, headers = alice
    r = client.post("/api/auth/session", headers=headers)
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    name = get_settings().session_cookie_name
    assert cookie.startswith(f"{name}=") and headers["Authorization"].split()[1] in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert client.post("/api/auth/session").status_code == 401
    assert client.post("/api/auth/session", headers={"Authorization": "Bearer forged"}).status_code == 401
    cleared = client.delete("/api/auth/session")
    assert cleared.status_code == 200 and f'{name}=""' in cleared.headers["set-cookie"]


def test_companies_per_user_are_capped(client, alice, bob, settings):
    settings(max_companies_per_user=2)
    _, headers = alice
    statuses = [
        client.post("/api/companies", json={"name": f"C{i}", "source": f"greenhouse:c{i}"}, headers=headers).status_code
        for i in range(3)
    ]
    assert statuses == [201, 201, 409]
    r = client.post("/api/companies", json={"name": "C9", "source": "greenhouse:c9"}, headers=headers)
    assert r.json() == {"detail": "You can keep at most 2 companies; delete one to add another"}
    assert len(client.get("/api/companies", headers=headers).json()) == 2
    _, bob_headers = bob  # the cap is per user
    assert (
        client.post("/api/companies", json={"name": "B", "source": "greenhouse:b"}, headers=bob_headers).status_code
        == 201
    )


@pytest.mark.parametrize("field", ["email", "password"])
def test_oversized_credentials_are_refused_with_a_clear_message(client, field):
    body = {"email": "a@example.com", "password": PASSWORD, field: "a" * 2000}
    r = client.post("/api/auth/token", json=body)
    assert r.status_code == 422 and "at most" in str(r.json()["detail"])
