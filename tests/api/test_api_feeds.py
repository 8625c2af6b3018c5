"""The Atom feed at a secret URL: valid for feedparser, newest first, revocable, one per user."""

from __future__ import annotations

import feedparser

from tests.support.runs import completed_run


def test_the_feed_lists_new_jobs_parses_cleanly_and_can_be_revoked(client, alice, bob, session):
    user, h = alice
    assert client.get("/api/feed", headers=h).json() == {"active": False, "created_at": None}
    completed_run(session, user.id, [("a", "Python Engineer", "Berlin"), ("b", "Data <Analyst> & Co", "Remote")])
    completed_run(session, bob[0].id, [("z", "Bob's job", "Oslo")])

    created = client.post("/api/feed", headers=h)
    assert created.status_code == 201
    path = created.json()["path"]
    assert path.startswith("/feeds/") and path.endswith(".atom") and created.json()["url"].endswith(path)
    assert client.get("/api/feed", headers=h).json()["active"] is True

    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(r.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10" and parsed.feed.title == "New jobs"
    titles = [e.title for e in parsed.entries]
    assert titles == ["Data <Analyst> & Co — Acme", "Python Engineer — Acme"]  # newest first, escaped safely
    assert parsed.entries[1].link == "https://jobs.example.com/acme/a"
    assert parsed.entries[1].summary.startswith("Berlin. Build things.")
    assert len({e.id for e in parsed.entries}) == 2 and all(e.updated_parsed for e in parsed.entries)

    # A new URL revokes the old one; revoking leaves none; bad tokens look the same.
    second = client.post("/api/feed", headers=h).json()["path"]
    assert client.get(path).status_code == 404 and client.get(second).status_code == 200
    assert client.delete("/api/feed", headers=h).status_code == 204
    assert client.get(second).status_code == 404
    for bad in ("/feeds/nope.atom", "/feeds/" + "x" * 101 + ".atom", "/feeds/%00.atom", "/feeds/a$b.atom"):
        assert client.get(bad).status_code in (404, 422), bad
    assert client.post("/api/feed").status_code == 401
