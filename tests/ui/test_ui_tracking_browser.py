"""Continuous tracking in headless Chromium against the real app, PostgreSQL, the local queue and
a worker running the tracking tick every second, the local demo site and a local SMTP server: set
a daily schedule and an email channel in the UI, send a test, start a run, then see "+N new" on
stage 5 and in the history, and the digest arrive by email. Screenshots of both screens."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlmodel import select

from devtools.demo.site import DemoServer, DemoSite, start_demo_server
from ingest_app.core.models import IngestionRun
from tests.support.emulator import make_test_queue, start_test_emulator
from tests.support.receivers import Mailbox, smtp_server  # noqa: F401  (a local SMTP server)
from tests.support.settings import apply_env
from tests.support.worker import start_worker, stop_worker
from tests.ui.app_server import AppServer
from tests.ui.test_ui_browser import new_page, register, shot, text

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]


@dataclass
class TrackingStack:
    app: AppServer
    demo: DemoServer
    site: DemoSite


@pytest.fixture(scope="module")
def tracking_stack(tmp_path_factory) -> Iterator[TrackingStack]:
    logs = tmp_path_factory.mktemp("ui-tracking")
    site = DemoSite.default(rotate=False)
    demo = start_demo_server(site)
    emulator = start_test_emulator()
    queue, previous_env = make_test_queue(emulator)
    env = {**demo.settings_env(), **queue.env, "DEMO_SITE_URL": demo.base_url}
    worker = start_worker(env={**env, "TRACKING_TICK_SECONDS": "1"}, concurrency=2, log_path=logs / "worker.log")
    app = AppServer(env, logs / "app.log")
    try:
        app.wait_ready()
        yield TrackingStack(app=app, demo=demo, site=site)
    finally:
        app.stop()
        demo.stop()
        stop_worker(worker)
        apply_env(previous_env)
        emulator.stop()


def _wait_for(predicate, timeout: float = 60.0, step: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def test_schedule_channel_run_and_change_summary(tracking_stack, browser, session, smtp_server: Mailbox):  # noqa: F811
    base = tracking_stack.app.base_url
    page = new_page(browser)
    register(page, base, "grace@example.com")
    page.click("#add-demo")
    page.wait_for_selector(".company-name")

    # A daily schedule in Berlin time: saved, described in words, with the next run time.
    page.goto(base + "/schedule")
    page.click("#schedule-kind")
    page.get_by_role("option", name="Daily at…").click()
    page.fill("#schedule-time", "07:45")
    page.fill("#schedule-timezone", "Europe/Berlin")
    page.click("#save-schedule")
    page.wait_for_selector("#schedule-notice:has-text('Schedule saved')")
    assert "At 07:45 AM" in page.inner_text("body")
    assert re.search(r"Next run: \d{4}-\d\d-\d\d \d\d:\d\d UTC", text(page, "#schedule-next-run"))
    shot(page, "16-schedule")

    # An email channel (the local SMTP server); a test message goes out through the worker.
    page.goto(base + "/notifications")
    page.fill("#channel-name", "My inbox")
    page.fill("#channel-url", smtp_server.url("grace@example.com"))
    page.click("#add-channel")
    page.wait_for_selector(".channel-row:has-text('My inbox')")
    page.click("#save-rule")
    page.wait_for_selector("#rule-notice")
    page.locator(".send-test").first.click()
    page.wait_for_selector("#channel-notice:has-text('Test queued')")
    page.wait_for_selector(".channel-row:has-text('sent')", timeout=60_000)  # the page refreshes by itself
    assert [m["Subject"] for m in smtp_server.messages] == ["Test notification from Job ingestion"]
    page.evaluate("window.scrollTo(0, 0)")  # the sticky bar at the top of the full-page shot
    shot(page, "17-notifications")

    # A run with changes: every demo job is new.
    page.goto(base + "/schedule")
    page.click("#run-now")
    page.wait_for_url(re.compile(r".*/run/?\?run=\d+$"))
    page.wait_for_selector("#stage-5", timeout=180_000)
    run = session.exec(select(IngestionRun)).one()
    assert run.status == "completed" and run.jobs_added > 0
    summary = text(page, "#change-summary")
    assert f"+{run.jobs_added} new" in summary, summary

    page.goto(base + "/history")
    page.wait_for_selector(".history-changes")
    assert text(page, ".history-changes").startswith(f"+{run.jobs_added} new")

    # The digest of that run arrives once, by email.
    assert _wait_for(lambda: len(smtp_server.messages) == 2, timeout=60)
    assert smtp_server.messages[1]["Subject"] == f"Run #{run.run_id}: +{run.jobs_added} new"
    time.sleep(3)  # a few more ticks: still one digest
    assert len(smtp_server.messages) == 2
