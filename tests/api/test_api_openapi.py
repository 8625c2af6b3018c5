"""The published contract: OpenAPI with the bearer scheme, interactive docs, JSON errors."""

from __future__ import annotations

PUBLIC = {("post", "/api/auth/register"), ("post", "/api/auth/token"), ("delete", "/api/auth/session")}
PUBLIC |= {("get", "/feeds/{token}.atom")}  # the secret token in the URL is the credential


def test_openapi_declares_the_bearer_scheme_on_every_private_route(client):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    scheme = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/auth/token"
    operations = {(m, p): op for p, item in schema["paths"].items() for m, op in item.items()}
    assert {
        ("post", "/api/ingest/start"),
        ("get", "/api/ingest/runs/{run_id}/progress"),
        ("get", "/api/ingest/history"),
        ("post", "/api/ingest/runs/{run_id}/reset"),
        ("get", "/api/companies"),
        ("post", "/api/companies/{company_id}/preview"),
    } <= set(operations)
    for key, op in operations.items():
        assert ("security" in op) is (key not in PUBLIC), key
        assert "503" in op["responses"], key
        if key not in PUBLIC:
            assert "401" in op["responses"], key


def test_token_endpoint_documents_both_body_types(client):
    op = client.get("/api/openapi.json").json()["paths"]["/api/auth/token"]["post"]
    assert set(op["requestBody"]["content"]) == {"application/x-www-form-urlencoded", "application/json"}


def test_no_schema_exposes_a_password_hash(client):
    text = client.get("/api/openapi.json").text
    assert "password_hash" not in text


def test_docs_page_is_served(client):
    r = client.get("/api/docs")
    assert r.status_code == 200 and "swagger" in r.text.lower()


def test_unknown_route_and_wrong_method_answer_json(client):
    r = client.get("/api/nope")
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
    r = client.get("/api/auth/token")
    assert r.status_code == 405 and r.json() == {"detail": "Method Not Allowed"}


def test_wrong_method_names_every_method_of_the_path(client):
    r = client.put("/api/companies/1")
    assert r.status_code == 405 and r.headers["allow"] == "DELETE, GET, PATCH"
    assert client.delete("/api/companies").headers["allow"] == "GET, POST"


def test_every_api_route_lives_under_api(client):
    """The API wraps the Reflex backend at its root: anything outside /api would shadow the app."""
    from ingest_app.api.main import api

    paths = [r.path for r in api.router.routes if hasattr(r, "path")] + list(
        client.get("/api/openapi.json").json()["paths"]
    )
    assert len(paths) > 10
    # The one exception, by design: the feed URL readers subscribe to (no Reflex route uses /feeds).
    assert [p for p in paths if not p.startswith("/api/") and p != "/feeds/{token}.atom"] == []
