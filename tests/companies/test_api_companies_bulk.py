"""REST: detect, import (JSON and upload, dry run and real), export, bulk actions; 401 without a
token, 422 with a clear message for bad input."""

from __future__ import annotations

from ingest_app.core.companies import add_company, list_companies


def test_detect_proposes_the_probed_board(demo, client, make_user, auth_headers) -> None:
    headers = auth_headers(make_user())
    url = "https://boards.greenhouse.io/northwind"
    answer = client.post("/api/companies/detect", json={"url": url}, headers=headers)
    assert answer.status_code == 200
    assert answer.json() == {
        "url": "https://boards.greenhouse.io/northwind",
        "proposals": [
            {"source": "greenhouse:northwind", "family": "greenhouse", "name": "Northwind Robotics", "jobs_listed": 6}
        ],
        "tried": [],
        "error": None,
    }


def test_detect_reports_nothing_found_with_what_was_tried(demo, client, make_user, auth_headers) -> None:
    headers = auth_headers(make_user())
    answer = client.post("/api/companies/detect", json={"url": "https://jobs.lever.co/nobody"}, headers=headers)
    assert answer.status_code == 200
    body = answer.json()
    assert body["proposals"] == [] and body["error"] == "no board found" and body["tried"][0].startswith("lever:nobody")


def test_detect_refuses_what_is_not_a_url(client, make_user, auth_headers) -> None:
    headers = auth_headers(make_user())
    answer = client.post("/api/companies/detect", json={"url": "ftp://example.com"}, headers=headers)
    assert answer.status_code == 422
    assert answer.json() == {"detail": "A URL must start with http:// or https:// and name a host"}
    assert client.post("/api/companies/detect", json={"url": 5}, headers=headers).status_code == 422


def test_every_new_route_needs_a_token(client) -> None:
    assert client.post("/api/companies/detect", json={"url": "https://jobs.lever.co/a"}).status_code == 401
    assert client.post("/api/companies/import", json={"text": "lever:a"}).status_code == 401
    assert client.get("/api/companies/export").status_code == 401
    assert client.post("/api/companies/bulk", json={"ids": [1], "action": "delete"}).status_code == 401


def test_import_dry_run_then_for_real(demo, client, session, make_user, auth_headers) -> None:
    user = make_user()
    headers = auth_headers(user)
    text = "name,url\nBluefin,https://jobs.lever.co/bluefin\nCobalt,ashby:cobalt\nBad,monster:x\n"
    dry = client.post("/api/companies/import", json={"text": text}, headers=headers)
    assert dry.status_code == 200
    body = dry.json()
    assert (body["dry_run"], body["added"], body["new"], body["duplicates"], body["errors"]) == (True, 0, 2, 0, 1)
    assert [r["status"] for r in body["rows"]] == ["new", "new", "error"]
    assert list_companies(session, user.id) == []
    real = client.post("/api/companies/import", json={"text": text, "dry_run": False}, headers=headers).json()
    assert (real["added"], real["errors"]) == (2, 1)
    session.expire_all()
    assert {c.source for c in list_companies(session, user.id)} == {"lever:bluefin", "ashby:cobalt"}
    again = client.post("/api/companies/import", json={"text": text, "dry_run": False}, headers=headers).json()
    assert (again["added"], again["duplicates"]) == (0, 2)


def test_import_accepts_a_csv_upload(demo, client, session, make_user, auth_headers) -> None:
    user = make_user()
    files = {"file": ("companies.csv", b"\xef\xbb\xbfname,source\nLumen,smartrecruiters:lumen\n", "text/csv")}
    answer = client.post("/api/companies/import/upload", files=files, data={"dry_run": "false"},
                         headers=auth_headers(user))  # fmt: skip
    assert answer.status_code == 200 and answer.json()["added"] == 1
    bad = client.post("/api/companies/import/upload", files={"file": ("x.csv", b"\xff\xfe\x00", "text/csv")},
                      headers=auth_headers(user))  # fmt: skip
    assert bad.status_code == 422 and bad.json() == {"detail": "The file is not UTF-8 text; save it as CSV (UTF-8)"}


def test_import_refuses_unreadable_input_with_a_clear_message(client, make_user, auth_headers, settings) -> None:

    headers = auth_headers(make_user())
    settings(import_max_rows=2)
    answer = client.post("/api/companies/import", json={"text": "lever:a\nlever:b\nlever:c\n"}, headers=headers)
    assert answer.status_code == 422 and answer.json() == {"detail": "The import has more than 2 rows; split it"}
    assert client.post("/api/companies/import", json={"text": ""}, headers=headers).status_code == 422
    assert client.post("/api/companies/import", json={"text": "a", "dry_run": "no"}, headers=headers).status_code == 422


def test_a_two_megabyte_import_fits_the_request_limit(client, make_user, auth_headers) -> None:
    headers = auth_headers(make_user())
    text = "name,source\n" + "".join(f"Acme {i},lever:acme-{i}-{'a' * 960}\n" for i in range(2000))
    assert 1.9e6 < len(text) < 2 * 1024 * 1024
    from ingest_app.core.company_import import parse_rows

    assert len(parse_rows(text)) == 2000  # read whole: the API answer below is the bound
    answer = client.post("/api/companies/import", json={"text": text + "x" * 200_000}, headers=headers)
    assert answer.status_code == 422 and "larger than 2048 KB" in answer.json()["detail"]


def test_export_is_a_csv_download(client, session, make_user, auth_headers) -> None:
    user = make_user()
    add_company(session, user.id, name="Acme", source="lever:acme", enabled=False)
    session.commit()
    answer = client.get("/api/companies/export", headers=auth_headers(user))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.text == "name,source,enabled\nAcme,lever:acme,false\n"
    assert "attachment" in answer.headers["content-disposition"]


def test_bulk_actions_touch_only_my_companies(client, session, make_user, auth_headers) -> None:
    alice, bob = make_user(), make_user()
    mine = [add_company(session, alice.id, name=n, source=f"lever:{n}").id for n in ("a", "b")]
    theirs = add_company(session, bob.id, name="bob", source="lever:bob").id
    session.commit()
    headers = auth_headers(alice)
    off = client.post("/api/companies/bulk", json={"ids": [*mine, theirs], "action": "disable"}, headers=headers)
    assert off.status_code == 200 and off.json() == {"action": "disable", "changed": 2, "not_found": [theirs]}
    gone = client.post("/api/companies/bulk", json={"ids": [mine[0], theirs], "action": "delete"}, headers=headers)
    assert gone.json() == {"action": "delete", "changed": 1, "not_found": [theirs]}
    session.expire_all()
    assert [(c.id, c.enabled) for c in list_companies(session, alice.id)] == [(mine[1], False)]
    assert [(c.id, c.enabled) for c in list_companies(session, bob.id)] == [(theirs, True)]
    for bad in ({"ids": [], "action": "delete"}, {"ids": [1], "action": "explode"}, {"ids": ["x"], "action": "enable"}):
        assert client.post("/api/companies/bulk", json=bad, headers=headers).status_code == 422
