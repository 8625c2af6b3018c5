"""The whole flow in headless Chromium against the real app (`reflex run --env prod --single-port`),
PostgreSQL, the local queue and worker, and the local demo site. Every screen is checked with
axe-core (no serious or critical violation) and a screenshot of it is saved (see SHOTS); the
keyboard alone reaches every action, with the focus visible, and dialogs keep it."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlmodel import select

from ingest_app.core.models import Company, IngestionRun, Job
from ingest_app.core.settings import PROJECT_ROOT
from tests.ui.a11y import check_page, focused, tab_until
from tests.ui.app_server import OPEN_PAGES, Stack, demo_stack

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

# Screenshots of every screen: test-artifacts/screenshots/ by default; UPDATE_SCREENSHOTS=1 refreshes
# the ones the README shows (docs/screenshots/).
SHOTS = (
    PROJECT_ROOT / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else PROJECT_ROOT / "test-artifacts" / "screenshots"
)
PASSWORD = "browser-pass-1"
DEMO_COMPANIES = 14  # "Add demo companies": one per source family
API_JOB_PATHS = {"northwind": "/greenhouse/v1/boards/northwind/jobs/", "bluefin": "/lever/v0/postings/bluefin/"}


def stagger_job_pages(stack: Stack, step: float) -> list[str]:
    """Job i of the run answers after (i + 1) * step seconds, however many the worker fetches at
    once, so the progress moves over several polls. Returns the slowed path prefixes."""
    prefixes = []
    for slug, api_path in API_JOB_PATHS.items():
        for url in stack.site.listed_urls(slug):
            job_id = url.rstrip("/").rsplit("/", 1)[-1]
            prefixes += [url.removeprefix(stack.demo.base_url), api_path + job_id]
    for i, prefix in enumerate(prefixes):
        stack.site.set_latency((i // 2 + 1) * step, prefix)
    return prefixes


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    # One message per batch: each finished page shows in the progress on its own (a batch of ten is
    # recorded in one transaction, which would make this small run jump from 0 to 13).
    with demo_stack(tmp_path_factory.mktemp("ui-browser"), worker_env={"WORKER_BATCH_SIZE": "1"}) as running:
        yield running


def shot(page, name: str) -> None:
    """axe-core on the screen as it is, then its screenshot."""
    check_page(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def new_page(browser, width: int = 1280, height: int = 860):
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(20_000)
    page = context.new_page()
    OPEN_PAGES.append(page)
    return page


def register(page, base_url: str, email: str) -> None:
    page.goto(base_url + "/")
    page.get_by_role("radio", name="Register").click()
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/companies/?$"))
    page.wait_for_selector(f"#nav-user:has-text('{email}')")


def sign_in(page, base_url: str, email: str) -> None:
    page.goto(base_url + "/")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#submit")


def add_company(page, name: str, kind_label: str, value: str) -> None:
    page.click("#add-company")
    page.fill("#company-name", name)
    page.click("#company-kind")
    page.get_by_role("option", name=kind_label).click()
    page.fill("#company-value", value)
    page.click("#company-save")
    page.wait_for_selector(f".company-name:text-is('{name}')")


def text(page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_register_ingest_results_history_and_search(stack: Stack, browser, session):
    base, site = stack.app.base_url, stack.site
    page = new_page(browser)

    # Sign in / register: inline errors, then an account; the session survives a reload.
    page.goto(base + "/")
    page.wait_for_selector("#email")
    shot(page, "01-sign-in")
    page.get_by_role("radio", name="Register").click()
    page.fill("#email", "ada@example.com")
    page.fill("#password", "short")
    page.click("#submit")
    page.wait_for_selector(".field-error:has-text('Password must be at least 12 characters long')")
    shot(page, "02-register-error")
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/companies/?$"))
    page.reload()
    page.wait_for_selector("#nav-user:has-text('ada@example.com')")
    assert "/companies" in page.url

    # Stage 1: an invalid token is explained next to the field; two companies are added.
    page.click("#add-company")
    page.fill("#company-name", "Northwind Robotics")
    page.fill("#company-value", "north wind!")
    page.click("#company-save")
    page.wait_for_selector(".field-error:has-text('board token must be')")
    shot(page, "03-company-dialog-error")
    page.fill("#company-value", "northwind")
    page.click("#company-save")
    page.wait_for_selector(".company-name:text-is('Northwind Robotics')")
    add_company(page, "Bluefin Analytics", "Lever", "bluefin")
    add_company(page, "Ghost Labs", "Ashby", "ghost-labs")  # no such board: its errors are shown
    assert page.locator("#add-demo").is_visible()
    shot(page, "04-companies")

    # What the run should find: an old Northwind job that is no longer listed (archived), and one
    # Northwind posting whose detail answers 404 (a failed URL with its reason; Lever's listing
    # carries its postings whole, so a Bluefin job page is never fetched).
    northwind = session.exec(select(Company).where(Company.name == "Northwind Robotics")).one()
    session.add(
        Job(
            user_id=northwind.user_id,
            company_id=northwind.id,
            company=northwind.name,
            title="Retired role",
            source_url=f"{stack.demo.base_url}/jobs/northwind/retired-1",
        )
    )
    session.commit()
    broken_url = site.listed_urls("northwind")[0]
    broken_id = broken_url.rstrip("/").rsplit("/", 1)[-1]
    for path in (broken_url.removeprefix(stack.demo.base_url), f"/greenhouse/v1/boards/northwind/jobs/{broken_id}"):
        site.inject_failure(path, status=404)
    # Slow job pages (not listings) keep stage 4 on screen long enough to watch it advance.
    slowed = stagger_job_pages(stack, 0.7)

    # Stage 2: the dry run lists 6 + 7 URLs.
    page.click("#to-preview")
    page.wait_for_url(re.compile(r".*/preview/?$"))
    page.wait_for_selector("#preview-total:has-text('13 job URLs across 3 companies')", timeout=60_000)
    page.wait_for_function("!document.body.innerText.includes('Fetching')", timeout=60_000)
    ghost = page.locator(".rt-Card", has_text="Ghost Labs")
    assert ghost.get_by_text("error", exact=True).is_visible()
    assert "not_found: no ashby board named 'ghost-labs'" in ghost.locator(".rt-CalloutRoot").inner_text()
    page.locator("summary").first.click()
    shot(page, "05-preview")

    # Stages 3-4: progress advances by itself (polled every 3 s).
    page.click("#start-ingestion")
    page.wait_for_url(re.compile(r".*/run/?$"))
    page.wait_for_selector("#stage-4", timeout=60_000)
    seen = set()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and page.locator("#stage-5").count() == 0:
        now = page.locator("#processed-of-total").all_inner_texts()  # no waiting: stage 5 may be there
        if now:
            seen.add(now[0].strip())
            if len(seen) == 2:
                shot(page, "07-progress")
        time.sleep(0.5)
    assert len(seen) >= 2, f"progress never advanced: {seen}"

    # Stage 5, reached without any click, with the numbers of the run.
    page.wait_for_selector("#stage-5", timeout=90_000)
    assert re.search(r"/run/?\?run=\d+$", page.url)
    run = session.exec(select(IngestionRun)).one()
    assert (run.status, run.total_jobs_found, run.jobs_added, run.jobs_failed, run.jobs_archived) == (
        "completed",
        13,
        12,
        1,
        1,
    )
    assert text(page, "#result-heading") == "Ingestion complete"
    assert [text(page, f"#stat-{k}") for k in ("found", "added", "archived", "failed")] == ["13", "12", "1", "1"]
    assert page.get_by_text(broken_url).is_visible()
    ghost_row = page.locator("tr", has_text="Ghost Labs")
    assert "no ashby board named 'ghost-labs'" in ghost_row.inner_text()
    shot(page, "08-results")

    # History: newest first, with the run's companies and numbers.
    page.get_by_role("link", name="History", exact=True).first.click()
    page.wait_for_url(re.compile(r".*/history/?$"))
    row = page.locator(".history-row").first
    row.wait_for()
    assert "Northwind Robotics" in row.inner_text() and "Bluefin Analytics" in row.inner_text()
    assert "completed" in row.inner_text()
    shot(page, "09-history")

    # Go to search: the jobs page filtered to the run's companies; descriptions are text only.
    page.go_back()
    page.wait_for_selector("#go-to-search")
    session.add(
        Job(
            user_id=run.user_id,
            company="Bluefin Analytics",
            title="Markup test",
            status="active",
            source_url=f"{stack.demo.base_url}/jobs/bluefin/markup",
            description="<b>bold</b> <img src=x onerror=alert(1)>",
        )
    )
    session.commit()
    page.click("#go-to-search")
    page.wait_for_url(re.compile(r".*/jobs\?company=.*"))
    page.wait_for_selector("#jobs-total:has-text('13 jobs')")
    assert page.locator(".company-chip").count() == 3  # the run's companies, selected
    markup = page.locator(".job-description", has_text="<b>bold</b>")
    assert markup.count() == 1 and markup.locator("b, img").count() == 0
    page.get_by_role("switch").click()
    page.wait_for_selector("#jobs-total:has-text('14 jobs')")
    page.fill("#job-filter", "Retired")
    page.wait_for_selector("#jobs-total:has-text('1 job')")
    page.fill("#job-filter", "")
    page.wait_for_selector("#jobs-total:has-text('14 jobs')")
    shot(page, "10-jobs")

    # The narrow layout: nothing wider than a 390 px phone.
    phone = new_page(browser, width=390, height=844)
    sign_in(phone, base, "ada@example.com")
    phone.wait_for_url(re.compile(r".*/companies/?$"))
    phone.wait_for_selector(".company-name")
    assert no_horizontal_scroll(phone)
    shot(phone, "11-companies-390px")
    phone.goto(f"{base}/run?run={run.run_id}")
    phone.wait_for_selector("#stage-5")
    assert no_horizontal_scroll(phone)
    shot(phone, "12-results-390px")
    phone.goto(base + "/jobs")
    phone.wait_for_selector("#jobs-total:has-text('13 jobs')")
    assert no_horizontal_scroll(phone)
    shot(phone, "13-jobs-390px")

    # Signing out ends the session everywhere: the cookie is gone, signed-in pages lead to sign-in,
    # in this browser and in the other one (every token of the user is revoked).
    phone.click("#sign-out")
    phone.wait_for_selector("#email")
    assert not [c for c in phone.context.cookies() if c["httpOnly"]], phone.context.cookies()
    phone.goto(base + "/jobs")
    phone.wait_for_url(re.compile(r".*/$"))
    phone.wait_for_selector("#email")
    page.reload()
    page.wait_for_url(re.compile(r".*/$"))
    page.wait_for_selector("#email")
    for prefix in slowed:
        site.set_latency(0.0, prefix)
    site.clear_failures()


def test_active_run_survives_reload_and_sign_in_elsewhere_then_reset(stack: Stack, browser, session):
    base, site = stack.app.base_url, stack.site
    page = new_page(browser)
    register(page, base, "grace@example.com")
    page.click("#add-demo")
    page.wait_for_selector(".company-name:text-is('Juniper Health')")
    assert page.locator(".company-name").count() == DEMO_COMPANIES
    page.click("#to-preview")
    page.wait_for_selector(f"#preview-total:has-text('across {DEMO_COMPANIES} companies')", timeout=60_000)
    page.wait_for_function(f"document.querySelectorAll('.preview-count').length === {DEMO_COMPANIES}", timeout=60_000)

    # A slow site: listings take a while, job pages much longer, so the run is still busy.
    slow_job_pages = ("/jobs/", "/greenhouse/v1/boards/northwind/jobs/", "/lever/v0/postings/bluefin/")
    site.set_latency(1.5)
    for prefix in slow_job_pages:
        site.set_latency(30.0, prefix)
    try:
        page.click("#start-ingestion")
        page.wait_for_selector("#stage-3")
        assert page.get_by_text("Archiving jobs no longer listed...").is_visible()
        shot(page, "06-archiving")
        page.wait_for_selector("#stage-4", timeout=60_000)

        # A reload, and a sign-in from another browser, both show the run where it is.
        page.reload()
        page.wait_for_selector("#stage-4")
        elsewhere = new_page(browser)
        sign_in(elsewhere, base, "grace@example.com")
        elsewhere.wait_for_url(re.compile(r".*/run/?$"))
        elsewhere.wait_for_selector("#stage-4")
        elsewhere.context.close()

        # Reset through the confirmation dialog.
        page.click("#reset-run")
        dialog = page.get_by_role("alertdialog")
        dialog.wait_for()
        assert "Reset by user" in dialog.inner_text()
        shot(page, "14-reset-dialog")
        page.click("#confirm-reset")
        page.wait_for_url(re.compile(r".*/companies/?$"))
    finally:
        site.set_latency(0.0)
        for prefix in slow_job_pages:
            site.set_latency(0.0, prefix)

    run = session.exec(select(IngestionRun)).one()
    session.refresh(run)
    assert (run.status, run.error_message) == ("failed", "Reset by user")
    page.get_by_role("link", name="Ingestion", exact=True).click()
    page.wait_for_selector("#stage-5")
    assert text(page, "#result-heading") == "Ingestion failed"
    assert text(page, "#run-error") == "Reset by user"
    shot(page, "15-reset-run-result")


def test_the_keyboard_alone_reaches_every_action_and_dialogs_keep_the_focus(stack: Stack, browser, session):
    base, site = stack.app.base_url, stack.site
    page = new_page(browser)
    page.goto(base + "/")
    page.wait_for_selector("#email")

    # Register: the mode switch, both fields and the submit, by keyboard; each label names its field.
    assert page.get_by_label("Email").get_attribute("id") == "email"
    assert page.get_by_label("Password").get_attribute("id") == "password"
    tab_until(page, lambda f: f["role"] == "radio")
    # A key pressed while the page is still hydrating can be overtaken by the hydration's state;
    # a keyboard user presses again, and so does the test (at most a few times).
    for _attempt in range(4):
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Space")
        try:
            page.wait_for_selector("#submit:has-text('Create account')", timeout=5000)
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("ArrowLeft")
    else:
        raise AssertionError("the keyboard never switched the form to registration")
    tab_until(page, lambda f: f["id"] == "email")
    page.keyboard.type("kay@example.com")
    tab_until(page, lambda f: f["id"] == "password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/companies/?$"))
    page.wait_for_selector("#nav-user:has-text('kay@example.com')")

    tab_until(page, lambda f: f["id"] == "add-demo")
    page.keyboard.press("Enter")
    page.wait_for_selector(".company-name:text-is('Juniper Health')")

    # The company dialog: focus moves in, Tab cycles inside it, Escape closes it.
    tab_until(page, lambda f: f["id"] == "add-company", key="Shift+Tab")
    page.keyboard.press("Enter")
    page.get_by_role("dialog").wait_for()
    page.wait_for_function("document.activeElement.closest('[role=dialog]') !== null")
    stops = []
    for _ in range(10):  # more presses than the dialog has controls: the focus wraps around
        page.keyboard.press("Tab")
        now = focused(page)
        assert now["inDialog"] and now["visible"], f"the focus left the dialog or is not visible: {now}"
        stops.append(now["id"] or now["text"])
    assert {"company-name", "company-kind", "company-value", "company-save"} <= set(stops), stops
    page.keyboard.press("Escape")
    page.get_by_role("dialog").wait_for(state="detached")

    # Edit, the include switch and delete (a confirmation that Escape dismisses) on a card.
    tab_until(page, lambda f: f["role"] == "switch")
    tab_until(page, lambda f: f["text"] == "Edit")
    tab_until(page, lambda f: f["text"] == "Delete")
    page.keyboard.press("Enter")
    page.get_by_role("alertdialog").wait_for()
    assert focused(page)["inDialog"]
    page.keyboard.press("Escape")
    page.get_by_role("alertdialog").wait_for(state="detached")
    assert page.locator(".company-name").count() == DEMO_COMPANIES

    # Preview, start, and reset the run: every step by keyboard. Slow job pages hold stage 4.
    slow_job_pages = ("/jobs/", "/greenhouse/v1/boards/northwind/jobs/", "/lever/v0/postings/bluefin/")
    for prefix in slow_job_pages:
        site.set_latency(30.0, prefix)
    try:
        tab_until(page, lambda f: f["id"] == "to-preview", key="Shift+Tab")  # the toolbar, above the cards
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/preview/?$"))
        page.wait_for_function(
            f"document.querySelectorAll('.preview-count').length === {DEMO_COMPANIES}", timeout=60_000
        )
        tab_until(page, lambda f: f["tag"] == "SUMMARY")
        tab_until(page, lambda f: f["id"] == "start-ingestion")
        page.keyboard.press("Enter")
        page.wait_for_selector("#stage-4", timeout=60_000)
        bar = page.get_by_role("progressbar", name="Job URLs processed")
        assert bar.get_attribute("aria-valuenow") == text(page, "#percent").rstrip("%")
        assert page.locator("#stat-processed").get_attribute("aria-live") == "polite"

        tab_until(page, lambda f: f["id"] == "reset-run")
        page.keyboard.press("Enter")
        dialog = page.get_by_role("alertdialog")
        dialog.wait_for()
        for _ in range(5):
            page.keyboard.press("Tab")
            assert focused(page)["inDialog"], f"the focus left the dialog: {focused(page)}"
        page.keyboard.press("Escape")
        dialog.wait_for(state="detached")
        assert focused(page)["id"] == "reset-run"  # back on the button that opened it
        page.keyboard.press("Enter")
        dialog.wait_for()
        tab_until(page, lambda f: f["id"] == "confirm-reset")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/companies/?$"))
    finally:
        for prefix in slow_job_pages:
            site.set_latency(0.0, prefix)
    run = session.exec(select(IngestionRun)).one()
    session.refresh(run)
    assert (run.status, run.error_message) == ("failed", "Reset by user")

    # The navigation and the jobs filters.
    tab_until(page, lambda f: f["tag"] == "A" and f["text"] == "Jobs")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/jobs/?$"))
    tab_until(page, lambda f: f["id"] == "job-filter")
    tab_until(page, lambda f: f["id"] == "show-archived")
    page.keyboard.press("Space")
    page.wait_for_selector("#show-archived[aria-checked=true]")
