"""Company configs over HTTP: CRUD, validation, duplicates, and ownership (404, never 403)."""

from __future__ import annotations

import pytest

from tests.support.greenhouse_site import greenhouse_jobs


def _add(client, headers, **body):
    r = client.post("/api/companies", json={"name": "Acme", "source": "greenhouse:acme", **body}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_add_list_get_update_delete(client, alice):
    _, h = alice
    acme = _add(client, h, name=" Acme ")
    assert acme["name"] == "Acme" and acme["source"] == "greenhouse:acme" and acme["enabled"] is True
    assert acme["source_kind"] == "greenhouse" and acme["source_value"] == "acme"
    beta = _add(client, h, name="Beta", source="careers:https://beta.example/careers", enabled=False)
    assert [c["name"] for c in client.get("/api/companies", headers=h).json()] == ["Acme", "Beta"]
    assert client.get(f"/api/companies/{beta['id']}", headers=h).json()["enabled"] is False

    r = client.patch(f"/api/companies/{acme['id']}", json={"source": "lever:acme", "enabled": False}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "lever:acme" and r.json()["enabled"] is False and r.json()["name"] == "Acme"
    r = client.patch(f"/api/companies/{acme['id']}", json={"name": "Acme Corp", "source": None}, headers=h)
    assert r.json()["name"] == "Acme Corp" and r.json()["source"] == "lever:acme"

    r = client.delete(f"/api/companies/{acme['id']}", headers=h)
    assert r.status_code == 204 and r.content == b""
    assert [c["name"] for c in client.get("/api/companies", headers=h).json()] == ["Beta"]
    assert client.get(f"/api/companies/{acme['id']}", headers=h).status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "X", "source": "icims:acme"}, "greenhouse:TOKEN"),
        ({"name": "X", "source": "greenhouse:"}, "board token"),
        ({"name": "X", "source": "lever:has space"}, "site name"),
        ({"name": "X", "source": "careers:ftp://x.example/jobs"}, "http"),
        ({"name": "   ", "source": "ashby:acme"}, "Name must not be empty"),
        ({"name": "x" * 201, "source": "ashby:acme"}, "at most 200"),
    ],
)
def test_invalid_company_is_422_with_a_message(client, alice, body, message):
    _, h = alice
    r = client.post("/api/companies", json=body, headers=h)
    assert r.status_code == 422
    assert message in r.json()["detail"]


@pytest.mark.parametrize(
    "body", [{}, {"name": "X"}, {"name": 1, "source": 2}, {"name": "X", "source": "ashby:a", "enabled": "maybe"}]
)
def test_malformed_company_body_is_422(client, alice, body):
    r = client.post("/api/companies", json=body, headers=alice[1])
    assert r.status_code == 422 and isinstance(r.json()["detail"], list)


def test_invalid_patch_is_422_and_changes_nothing(client, alice):
    _, h = alice
    acme = _add(client, h)
    r = client.patch(f"/api/companies/{acme['id']}", json={"name": "New", "source": "nope"}, headers=h)
    assert r.status_code == 422 and "greenhouse:TOKEN" in r.json()["detail"]
    assert client.get(f"/api/companies/{acme['id']}", headers=h).json()["name"] == "Acme"


def test_duplicate_source_is_409(client, alice):
    _, h = alice
    _add(client, h)
    r = client.post("/api/companies", json={"name": "Acme again", "source": "Greenhouse:acme"}, headers=h)
    assert r.status_code == 409 and "already track" in r.json()["detail"]
    other = _add(client, h, name="Other", source="greenhouse:other")
    r = client.patch(f"/api/companies/{other['id']}", json={"source": "greenhouse:acme"}, headers=h)
    assert r.status_code == 409


def test_two_users_may_track_the_same_source(client, alice, bob):
    _add(client, alice[1])
    _add(client, bob[1])
    assert len(client.get("/api/companies", headers=bob[1]).json()) == 1


def test_another_users_company_is_404_everywhere(client, alice, bob):
    acme = _add(client, alice[1])
    url = f"/api/companies/{acme['id']}"
    h = bob[1]
    answers = [
        client.get(url, headers=h),
        client.patch(url, json={"name": "Mine"}, headers=h),
        client.delete(url, headers=h),
        client.post(f"{url}/preview", headers=h),
    ]
    assert [r.status_code for r in answers] == [404] * 4
    assert {r.json()["detail"] for r in answers} == {f"Company {acme['id']} not found"}
    assert client.get("/api/companies", headers=h).json() == []
    assert client.get(url, headers=alice[1]).json()["name"] == "Acme"


def test_missing_company_looks_like_another_users(client, alice):
    r = client.get("/api/companies/999999", headers=alice[1])
    assert r.status_code == 404 and r.json() == {"detail": "Company 999999 not found"}


@pytest.mark.parametrize("company_id", ["0", "-1", "2147483648", "1" + "0" * 30, "abc", "1.5"])
def test_absurd_company_ids_are_422(client, alice, company_id):
    h = alice[1]
    for r in (
        client.get(f"/api/companies/{company_id}", headers=h),
        client.patch(f"/api/companies/{company_id}", json={}, headers=h),
        client.delete(f"/api/companies/{company_id}", headers=h),
        client.post(f"/api/companies/{company_id}/preview", headers=h),
    ):
        assert r.status_code == 422, r.text


def test_largest_possible_id_is_a_plain_404(client, alice):
    assert client.get("/api/companies/2147483647", headers=alice[1]).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/companies"),
        ("post", "/api/companies"),
        ("get", "/api/companies/1"),
        ("patch", "/api/companies/1"),
        ("delete", "/api/companies/1"),
        ("post", "/api/companies/1/preview"),
    ],
)
def test_company_routes_require_a_token(client, method, path):
    r = client.request(method, path, json={"name": "X", "source": "greenhouse:x"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_preview_lists_the_urls_a_run_would_ingest(client, alice, fake_greenhouse):
    fake_greenhouse["acme"] = greenhouse_jobs("acme", 3)
    acme = _add(client, alice[1])
    r = client.post(f"/api/companies/{acme['id']}/preview", headers=alice[1])
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["company_id"], body["name"], body["source"], body["count"]) == (
        acme["id"],
        "Acme",
        "greenhouse:acme",
        3,
    )
    assert body["urls"] == [f"https://boards.greenhouse.io/acme/jobs/{1000 + i}" for i in range(3)]
    assert body["error"] is None


def test_preview_of_a_board_that_fails_reports_why(client, alice, fake_greenhouse):
    gone = _add(client, alice[1], name="Gone", source="greenhouse:gone")
    r = client.post(f"/api/companies/{gone['id']}/preview", headers=alice[1])
    assert r.status_code == 200, r.text
    assert r.json()["count"] == 0 and r.json()["urls"] == []
    assert r.json()["error"]["kind"] and r.json()["error"]["reason"]


@pytest.mark.parametrize(
    "body", [{"name": "a\x00b", "source": "greenhouse:x"}, {"name": "Acme", "source": "careers:https://a.example/\x00"}]
)
def test_nul_characters_are_422_not_a_database_error(client, alice, body):
    r = client.post("/api/companies", json=body, headers=alice[1])
    assert r.status_code == 422 and "NUL" in r.text
    acme = _add(client, alice[1])
    r = client.patch(f"/api/companies/{acme['id']}", json={"name": "x\x00"}, headers=alice[1])
    assert r.status_code == 422
