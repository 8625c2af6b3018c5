"""The companies page and the preview at 300 companies, measured in headless Chromium.

    python bench/companies_render_bench.py [--companies 300] [--failing 10] [--empty 10] [--repeats 3]

Creates a throwaway database on the local PostgreSQL (admin URL from TEST_DATABASE_URL, default
postgres@127.0.0.1:5432), serves a local demo site with `--companies` boards (of every source family;
`--failing` of them answer not_found, `--empty` list nothing), starts the real app
(`reflex run --env prod --single-port`, on loopback), registers a user in the browser and gives it
those companies. Then, in milliseconds:

- companies_first_render: navigation start -> the first page of 50 rows and the "of N" range shown;
- companies_next_page / companies_search / companies_sort: click or typing -> the new rows shown
  (one server round trip; the search includes the input's debounce);
- preview_counts: navigation start -> the counts of the dry run shown (every company pending);
- preview_all_done: navigation start -> every company's dry run in (through the bounded pool);
- preview_open_group: click on "Listing jobs" -> its first 50 rows shown.

Figures are medians over `--repeats` (each run loads the page afresh). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-pass-12345"
SHOTS = ROOT / "test-artifacts" / "bench"  # what the pages looked like (not committed)


@contextmanager
def database() -> Any:
    """A throwaway database, migrated, dropped at the end."""
    from ingest_app.migrations import upgrade

    admin = make_url(ADMIN_URL).set(drivername="postgresql+psycopg2")
    name = f"ingest_bench_{secrets.token_hex(4)}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def build_site(companies: int, failing: int, empty: int):
    from devtools.demo.data import ALL_KINDS
    from devtools.demo.site import DemoSite

    site = DemoSite.generate(
        companies=companies - failing - empty, jobs_per_company=6, page_kb=0, nav_links=4, kinds=ALL_KINDS
    )
    for i in range(empty):
        site.add_company(f"Quiet Works {i}", "greenhouse", jobs=0)
    return site


def seed_companies(url: str, email: str, sources: list[dict[str, str]], failing: int) -> None:
    """The user's companies, written straight to the database (past the per-user cap)."""
    from ingest_app.core.models import Company, User, utcnow
    from ingest_app.core.sources import parse_source_spec

    engine = sa.create_engine(url)
    now = utcnow()
    rows = []
    with engine.begin() as conn:
        user_id = conn.execute(sa.select(User.__table__.c.id).where(User.__table__.c.email == email)).scalar_one()
        for entry in sources:
            spec = parse_source_spec(entry["source"])
            rows.append((entry["name"], spec.kind, spec.value))
        rows += [(f"Gone Board {i}", "greenhouse", f"gone-board-{i}") for i in range(failing)]
        conn.execute(
            sa.insert(Company.__table__),
            [
                {
                    "user_id": user_id,
                    "name": name,
                    "source_kind": kind,
                    "source_value": value,
                    "enabled": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for name, kind, value in rows
            ],
        )
    engine.dispose()


SINCE_NAV = "() => ({cond}) ? performance.now() : false"


def wait_ms(page, condition: str, timeout: float = 120_000) -> float:
    """performance.now() (ms since this document's navigation started) once `condition` holds,
    checked at every animation frame."""
    handle = page.wait_for_function(SINCE_NAV.format(cond=condition), polling="raf", timeout=timeout)
    return float(handle.json_value())


def timed(page, action, condition: str) -> float:
    start = page.evaluate("performance.now()")
    action()
    return wait_ms(page, condition) - start


def rows_are(n: int, range_text: str) -> str:
    return (
        f"document.querySelectorAll('.company-row').length === {n} && "
        f"(document.querySelector('#companies-range')?.innerText || '').includes({json.dumps(range_text)})"
    )


def measure(base: str, total: int, repeats: int, browser) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(120_000)
    email = f"bench-{secrets.token_hex(3)}@example.com"
    page.goto(base + "/")
    page.get_by_role("radio", name="Register").click()
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/companies/?$"))
    return {"page": page, "email": email, "context": context}


def run_figures(base: str, page, total: int, repeats: int) -> dict[str, Any]:
    figures: dict[str, list[float]] = {k: [] for k in ("first", "next", "search", "sort", "counts", "done", "open")}
    nodes: dict[str, int] = {}
    first_range = f"of {total} companies"
    for _ in range(repeats):
        page.goto(base + "/companies")
        figures["first"].append(wait_ms(page, rows_are(50, first_range)))
        nodes["companies"] = page.evaluate("document.getElementsByTagName('*').length")
        figures["next"].append(timed(page, lambda: page.click("#page-next"), rows_are(50, f"51–100 of {total}")))
        figures["sort"].append(
            timed(
                page,
                lambda: page.click("#sort-direction"),
                rows_are(50, f"1–50 of {total}") + " && !document.querySelector('#page-prev:not([disabled])')",
            )
        )
        figures["search"].append(
            timed(
                page,
                lambda: page.fill("#company-search", "Gone Board"),
                "(document.querySelector('#companies-range')?.innerText || '').includes('of 10 companies')",
            )
        )
        page.fill("#company-search", "")
        page.click("#sort-direction")
        page.wait_for_selector(f"#companies-range:has-text('{first_range}')")

        page.goto(base + "/preview")
        figures["counts"].append(
            wait_ms(page, f"(document.querySelector('#preview-total')?.innerText || '').includes('across {total}')")
        )
        figures["done"].append(
            wait_ms(
                page,
                "document.querySelector('#preview-total') && !document.querySelector('#preview-progress')",
                timeout=300_000,
            )
        )
        nodes["preview_counts"] = page.evaluate("document.getElementsByTagName('*').length")
        figures["open"].append(
            timed(
                page,
                lambda: page.click("#group-ok"),
                "document.querySelectorAll('#group-ok-rows .preview-count').length === 50",
            )
        )
        nodes["preview_open_group"] = page.evaluate("document.getElementsByTagName('*').length")
    counts = {key: int(page.inner_text(f"#count-{key}")) for key in ("ok", "failing", "empty", "urls")}
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "preview-300.png"))
    page.goto(base + "/companies")
    wait_ms(page, rows_are(50, first_range))
    page.screenshot(path=str(SHOTS / "companies-300.png"))
    med = {k: round(statistics.median(v), 1) for k, v in figures.items()}
    return {
        "companies_first_render_ms": med["first"],
        "companies_next_page_ms": med["next"],
        "companies_sort_ms": med["sort"],
        "companies_search_ms": med["search"],
        "preview_counts_ms": med["counts"],
        "preview_all_done_ms": med["done"],
        "preview_open_group_ms": med["open"],
        "dom_elements": nodes,
        "preview_counts": counts,
        "samples": {k: [round(x, 1) for x in v] for k, v in figures.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=300)
    parser.add_argument("--failing", type=int, default=10)
    parser.add_argument("--empty", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from devtools.demo.site import start_demo_server
    from tests.ui.app_server import CHROMIUM, CHROMIUM_ARGS, AppServer

    site = build_site(args.companies, args.failing, args.empty)
    demo = start_demo_server(site)
    log = Path(tempfile.mkdtemp(prefix="companies-bench-")) / "app.log"
    try:
        with database() as url:
            env = {
                **demo.settings_env(),
                "DATABASE_URL": url,
                "MAX_COMPANIES_PER_USER": str(args.companies + 100),
            }
            app = AppServer(env, log)
            try:
                started = time.monotonic()
                app.wait_ready()
                build_s = time.monotonic() - started
                with sync_playwright() as p:
                    browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                    try:
                        session = measure(app.base_url, args.companies, args.repeats, browser)
                        seed_companies(url, session["email"], site.company_sources(demo.base_url), args.failing)
                        result = run_figures(app.base_url, session["page"], args.companies, args.repeats)
                    finally:
                        browser.close()
            finally:
                app.stop()
    finally:
        demo.stop()
    print(
        json.dumps(
            {
                "bench": "companies_render",
                "companies": args.companies,
                "failing": args.failing,
                "empty": args.empty,
                "repeats": args.repeats,
                "app_start_s": round(build_s, 1),
                **result,
                "load_average_1m": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
