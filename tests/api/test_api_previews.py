"""Previews of hostile pages run in their own bounded pool: one user's slow previews never take
the request threads other users need, and extra previews are refused at once with a reason."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.fixture_server import TrickleServer

pytestmark = pytest.mark.timeout(120)
PREVIEWS = 45  # more than the 40 threads the web server shares between all requests


@pytest.fixture
def slow_site(settings) -> Iterator[TrickleServer]:
    """A careers site whose headers trickle in (one byte every 0.2 s, never a read timeout)."""
    from ingest_app.core import listing_pool

    settings(
        CRAWLER_ALLOW_PRIVATE_HOSTS=1,
        CRAWLER_READ_TIMEOUT=1,
        CRAWLER_TOTAL_TIMEOUT=30,
        PREVIEW_TIMEOUT=3,
        PREVIEW_PER_USER_LIMIT=2,
    )
    listing_pool.reset_pool()
    srv = TrickleServer(delay=0.2)
    yield srv
    srv.stop()
    listing_pool.reset_pool()


def test_slow_previews_of_one_user_leave_other_users_served(client, alice, bob, slow_site) -> None:
    r = client.post(
        "/api/companies", json={"name": "Slow", "source": f"careers:{slow_site.url('/careers/')}"}, headers=alice[1]
    )
    assert r.status_code == 201, r.text
    preview_url = f"/api/companies/{r.json()['id']}/preview"
    answers: list = []

    def preview() -> None:
        answers.append(client.post(preview_url, headers=alice[1]))

    threads = [threading.Thread(target=preview, daemon=True) for _ in range(PREVIEWS)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # the previews are in flight (or refused)

    timings: list[float] = []

    def bob_lists() -> None:
        started = time.monotonic()
        answer = client.get("/api/companies", headers=bob[1])
        timings.append(time.monotonic() - started)
        assert answer.status_code == 200

    for _ in range(3):
        t = threading.Thread(target=bob_lists, daemon=True)
        t.start()
        t.join(timeout=5)
        assert not t.is_alive(), "another user's GET /api/companies waited for alice's previews"
    assert max(timings) < 1.0

    for t in threads:
        t.join(timeout=20)
    assert all(not t.is_alive() for t in threads)
    refused = [a for a in answers if a.status_code == 429]
    done = [a for a in answers if a.status_code == 200]
    assert len(done) == 2 and len(refused) == PREVIEWS - 2
    assert "previews running" in refused[0].json()["detail"] and refused[0].headers["retry-after"]
    # The two that ran stopped at the preview deadline, with a reason, well before the trickle ends.
    assert {a.json()["error"]["kind"] for a in done} == {"timeout"}

    # Once they are done the user may preview again.
    again = client.post(preview_url, headers=alice[1])
    assert again.status_code == 200 and again.json()["error"]["kind"] == "timeout"
