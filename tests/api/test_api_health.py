"""Board health over HTTP: the company list carries each company's health; "moved?" is searched in
the listing pool on demand and applied in one call, only to the caller's own company."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from ingest_app.core.companies import add_company
from ingest_app.core.models import IngestionRun, utcnow
from ingest_app.core.pipeline import run_stage3, start_run
from tests.support.fleet import CollectingSend

RUNS = IngestionRun.__table__


@pytest.fixture
def demo(settings) -> Iterator:
    """The demo site with Northwind on Lever only; the token families pointed at it."""
    from devtools.demo.site import DemoSite, start_demo_server
    from ingest_app.core import listing_pool

    site = DemoSite()
    site.add_company("Northwind", "lever", slug="northwind", jobs=3)
    server = start_demo_server(site)
    settings(server.settings_env(), HEALTH_MOVED_FAMILIES="greenhouse,lever,ashby", CRAWLER_MAX_RETRIES="1")
    listing_pool.reset_pool()
    try:
        yield server
    finally:
        server.stop()
        listing_pool.reset_pool()


def _stage3(engine, session, user_id: int) -> None:
    run = start_run(session, user_id)
    run_stage3(run.run_id, send=CollectingSend())
    with engine.begin() as conn:
        conn.execute(
            sa.update(RUNS)
            .where(RUNS.c.run_id == run.run_id, RUNS.c.status != "completed")
            .values(status="completed", current_stage=5, completed_at=utcnow())
        )


def test_company_list_carries_health_and_a_found_move_applies_once(client, alice, bob, engine, session, demo):
    user, h = alice
    _, other = bob
    company = add_company(session, user.id, name="Northwind", source="greenhouse:northwind")
    session.commit()
    (listed,) = client.get("/api/companies", headers=h).json()
    assert listed["health"]["status"] == "unknown" and listed["health"]["moved"] is None

    _stage3(engine, session, user.id)
    (listed,) = client.get("/api/companies", headers=h).json()
    assert listed["health"]["status"] == "warning" and listed["health"]["consecutive_failures"] == 1
    assert listed["health"]["last_error"].startswith("not_found")

    assert client.post(f"/api/companies/{company.id}/apply-move", headers=h).status_code == 422  # nothing found yet
    assert client.post(f"/api/companies/{company.id}/check-move", headers=other).status_code == 404
    r = client.post(f"/api/companies/{company.id}/check-move", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["moved"]["source"] == "lever:northwind" and r.json()["moved"]["jobs_listed"] == 3
    (listed,) = client.get("/api/companies", headers=h).json()
    assert listed["health"]["moved"]["family"] == "lever"

    assert client.post(f"/api/companies/{company.id}/apply-move", headers=other).status_code == 404
    r = client.post(f"/api/companies/{company.id}/apply-move", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "lever:northwind" and r.json()["health"]["status"] == "unknown"
    assert client.get(f"/api/companies/{company.id}", headers=h).json()["source"] == "lever:northwind"
    r = client.post(f"/api/companies/{company.id}/apply-move", headers=h)
    assert r.status_code == 422 and "nothing to apply" in r.json()["detail"]
