"""The companies page for many companies, in headless Chromium against the real app, PostgreSQL,
the local queue and worker and the local demo site: a company added by URL ("Detect"), three
imported by pasting their URLs (checked row by row first), search, bulk disable/enable and a
confirmed bulk delete, the CSV export, then the grouped preview and a run that reaches stage 5.
Every screen passes axe-core (no serious or critical violation); screenshots as in SHOTS."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlmodel import select

from ingest_app.core.models import Company, IngestionRun
from tests.ui.app_server import OPEN_PAGES, Stack, demo_stack
from tests.ui.test_ui_browser import PASSWORD, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

IMPORTED = {"cedar": "/pinpoint/cedar", "orchid": "/breezy/orchid", "maple": "/recruitee/maple"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    with demo_stack(tmp_path_factory.mktemp("ui-companies")) as running:
        yield running


def rows_shown(page, n: int) -> None:
    page.wait_for_function(f"document.querySelectorAll('.company-row').length === {n}")


def test_detect_import_bulk_export_preview_and_run(stack: Stack, browser, session):
    base, demo, site = stack.app.base_url, stack.demo, stack.site
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    OPEN_PAGES.append(page)
    page.goto(base + "/")
    page.get_by_role("radio", name="Register").click()
    page.fill("#email", "lin@example.com")
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/companies/?$"))
    page.wait_for_selector("#nav-user:has-text('lin@example.com')")

    # Add by URL: "Detect" finds the board behind the careers page and fills the fields.
    juniper_url = f"{demo.base_url}/careers/juniper/"
    page.click("#add-company")
    assert page.get_by_label("Careers page or job board URL").get_attribute("id") == "detect-url"
    page.fill("#detect-url", juniper_url)
    page.click("#detect-run")
    page.wait_for_selector("#detect-url-message:has-text('jobs listed now')")
    assert page.input_value("#company-name") == "Juniper Health"
    assert page.input_value("#company-value") == juniper_url
    shot(page, "c01-detect")
    page.click("#company-save")
    page.wait_for_selector(".company-name:text-is('Juniper Health')")

    # Import: three pasted URLs, each checked live (detected spec, jobs listed now), then added.
    page.click("#to-import")
    page.wait_for_url(re.compile(r".*/companies/import/?$"))
    urls = [demo.base_url + path for path in IMPORTED.values()] + [juniper_url]
    page.fill("#import-text", "\n".join(urls))
    page.click("#import-check")
    page.wait_for_function("document.querySelectorAll('.import-row').length === 4", timeout=60_000)
    assert page.inner_text("#import-counts") == "4 rows: 3 new, 1 duplicate, 0 with errors"
    for slug, path in IMPORTED.items():
        row = page.locator(".import-row", has_text=demo.base_url + path)
        assert "new" in row.locator(".import-status").inner_text()
        assert row.locator(".import-jobs").inner_text().strip() == str(len(site.listed_urls(slug)))
    assert "duplicate" in page.locator(".import-row", has_text=juniper_url).inner_text()
    shot(page, "c02-import-checked")
    page.click("#import-commit")
    page.wait_for_selector("#import-summary:has-text('Added 3 companies')")
    shot(page, "c03-import-done")

    # A CSV file goes through the same check: its one row is already in the list.
    csv_text = f"name,url\nCedar again,{demo.base_url}/pinpoint/cedar\n"
    page.set_input_files(
        ".import-csv-zone input[type=file]",
        files=[{"name": "more.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}],
    )
    page.wait_for_selector("#import-counts:text-is('1 row: 0 new, 1 duplicate, 0 with errors')", timeout=60_000)
    assert "Cedar again" in page.locator(".import-row").inner_text()
    assert page.input_value("#import-text") == csv_text

    # The table: search, select all on the page, bulk disable / enable, a confirmed bulk delete.
    page.click("#import-back")
    page.wait_for_url(re.compile(r".*/companies/?$"))
    rows_shown(page, 4)
    assert page.inner_text("#companies-range").startswith("1–4 of 4 companies")
    page.fill("#company-search", "cedar")
    rows_shown(page, 1)
    assert page.locator(".company-name").inner_text() == "Cedar Robotics"
    page.fill("#company-search", "")
    rows_shown(page, 4)
    page.click("#select-page")
    page.wait_for_selector("#selected-count:has-text('4 selected')")
    page.click("#bulk-disable")
    page.wait_for_selector("text=Disabled 4 companies")
    page.wait_for_selector("#to-preview:has-text('Preview 0 companies')")
    page.click("#bulk-enable")
    page.wait_for_selector("#to-preview:has-text('Preview 4 companies')")
    page.click("#select-page")  # untick the page, then pick one row
    page.wait_for_selector("#bulk-bar", state="detached")
    page.get_by_role("checkbox", name="Select Juniper Health").click()
    page.click("#bulk-delete")
    dialog = page.get_by_role("alertdialog")
    dialog.wait_for()
    assert "Delete 1 company?" in dialog.inner_text()
    shot(page, "c04-bulk-delete-confirm")
    page.click("#confirm-bulk-delete")
    page.wait_for_selector("text=Deleted 1 company")
    rows_shown(page, 3)
    shot(page, "c05-companies")

    with page.expect_download() as download_info:
        page.click("#companies-export")
    exported = download_info.value
    assert exported.suggested_filename == "companies.csv"
    lines = open(exported.path(), encoding="utf-8").read().splitlines()
    assert lines[0] == "name,source,enabled" and len(lines) == 4

    # Preview: counts first, the groups below; then the run.
    expected = sum(len(site.listed_urls(slug)) for slug in IMPORTED)
    page.click("#to-preview")
    page.wait_for_url(re.compile(r".*/preview/?$"))
    page.wait_for_selector(f"#preview-total:has-text('{expected} job URLs across 3 companies')", timeout=60_000)
    page.wait_for_function("!document.body.innerText.includes('Fetching')", timeout=60_000)
    assert [page.inner_text(f"#count-{k}") for k in ("ok", "failing", "empty")] == ["3", "0", "0"]
    assert page.get_by_role("button", name="Listing jobs (3)").get_attribute("aria-expanded") == "true"
    page.click("#group-ok")
    page.wait_for_selector("#group-ok-rows", state="detached")
    page.click("#group-ok")
    page.wait_for_function("document.querySelectorAll('.preview-count').length === 3")
    shot(page, "c06-preview")

    page.click("#start-ingestion")
    page.wait_for_url(re.compile(r".*/run/?$"))
    page.wait_for_selector("#stage-5", timeout=180_000)
    run = session.exec(select(IngestionRun)).one()
    assert (run.status, run.total_jobs_found, run.jobs_added) == ("completed", expected, expected)
    names = {c.name for c in session.exec(select(Company)).all()}
    assert names == {"Cedar Robotics", "Orchid Studios", "Maple Labs"}
    shot(page, "c07-results")
    context.close()

    # A phone: the table fits the screen (the page never scrolls sideways).
    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    OPEN_PAGES.append(phone)
    phone.goto(base + "/")
    phone.fill("#email", "lin@example.com")
    phone.fill("#password", PASSWORD)
    phone.click("#submit")
    phone.wait_for_url(re.compile(r".*/companies/?$"))
    rows_shown(phone, 3)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(phone, "c08-companies-390px")
    phone.context.close()
