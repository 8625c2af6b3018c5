"""Browser tests leave a screenshot of every open page under test-artifacts/ui/ when they fail."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from ingest_app.core.settings import PROJECT_ROOT
from tests.ui.app_server import CHROMIUM, CHROMIUM_ARGS, OPEN_PAGES

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "ui"


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and OPEN_PAGES:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for n, page in enumerate(OPEN_PAGES):
            try:
                page.screenshot(path=str(ARTIFACTS / f"{item.name}-{n}.png"), full_page=True)
            except Exception:  # a closed page has nothing to show
                continue
    if report.when == "teardown":
        OPEN_PAGES.clear()


def pytest_sessionfinish(session, exitstatus):
    a11y = sys.modules.get("tests.ui.a11y")
    if a11y is not None:
        a11y.write_report()
