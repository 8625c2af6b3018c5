"""`make run` and `make dev` exactly as the README's quick start writes them, driven in headless Chromium: a run
started in the browser goes through stages 3 -> 4 -> 5 by itself, with the progress seen moving
and no reload, against the demo site the command starts (slowed to 0.75 s an answer so stage 4
lasts several polls). `make dev` is Reflex's development mode (React StrictMode mounts, unmounts
and mounts every component again), where an unmount handler once stopped the progress for good.
"""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Iterator

import pytest
from sqlmodel import select

from ingest_app.core.models import IngestionRun
from tests.support.doc_commands import doc_commands
from tests.ui.a11y import check_page
from tests.ui.app_server import OPEN_PAGES, MakeStack, tcp_listeners

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

PASSWORD = "make-run-pass-1"
DEMO_COMPANIES = 14  # "Add demo companies": one per source family
# 14 demo companies, ~80 jobs: at 0.75 s an answer and 3 at once, stage 4 lasts ~20 s (several polls).
SLOW_ENV = {"DEMO_SITE_LATENCY": "0.75", "WORKER_BATCH_SIZE": "1", "WORKER_CONCURRENCY": "3"}


def first_answer(url: str, stack: MakeStack, timeout: float = 120.0) -> tuple[int, dict[str, str]]:
    """Status and headers of the first HTTP answer on `url` (while the command starts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.proc.poll() is not None:
            raise RuntimeError(f"`{stack.command}` exited; see {stack.log_path}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers)
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} never answered")


QUICK_START = {c.kind: c.text for c in doc_commands("README.md") if c.kind in ("make run", "make dev")}


@pytest.fixture(scope="module", params=["make run", "make dev"], ids=["make-run", "make-dev"])
def make_stack(request, tmp_path_factory) -> Iterator[MakeStack]:
    assert request.param in QUICK_START, f"README.md's quick start no longer says `{request.param}`"
    logs = tmp_path_factory.mktemp(request.param.replace(" ", "-"))
    stack = MakeStack(QUICK_START[request.param], SLOW_ENV, logs / "make.log")
    try:
        stack.first = first_answer(stack.base_url + "/", stack)
        stack.wait_ready()
        yield stack
    finally:
        stack.stop()


def test_the_command_listens_on_loopback_only_and_shows_its_build(make_stack: MakeStack):
    listeners = make_stack.listening_addresses()
    ports = {int(address.rsplit(":", 1)[1]) for address in listeners}
    assert {make_stack.frontend_port, make_stack.backend_port, make_stack.demo_port} <= ports, listeners
    assert {address.rsplit(":", 1)[0] for address in listeners} == {"127.0.0.1"}, listeners
    # The queue emulator outlives the `queue up` that started it (it is not in the process tree).
    queue = {addr for addr, port, _inode in tcp_listeners() if port == make_stack.sqs_port}
    assert queue == {"127.0.0.1"}, queue
    status, headers = make_stack.first
    if make_stack.target == "run":
        # The address answers at once, with the build's progress, before the app is built.
        assert (status, headers.get("X-App-Building")) == (503, "building")
        with urllib.request.urlopen(make_stack.base_url + "/companies", timeout=5) as response:
            assert response.status == 200 and "X-App-Building" not in response.headers


def test_a_run_started_in_the_browser_reaches_stage_5_by_itself(make_stack: MakeStack, browser, session):
    base = make_stack.base_url
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(60_000)
    page = context.new_page()
    OPEN_PAGES.append(page)

    # Registration through the labelled fields.
    page.goto(base + "/")
    page.get_by_role("radio", name="Register").click()
    page.get_by_label("Email").fill("lin@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r".*/companies/?$"))
    page.click("#add-demo")
    page.wait_for_selector(".company-name:text-is('Juniper Health')")
    page.click("#to-preview")
    page.wait_for_selector(f"#preview-total:has-text('across {DEMO_COMPANIES} companies')")
    page.wait_for_function(f"document.querySelectorAll('.preview-count').length === {DEMO_COMPANIES}", timeout=120_000)
    total = int(text(page, "#preview-total").split()[0])

    # A full page load would clear this mark: it must still be there at stage 5.
    page.evaluate("window.__sameDocument = true")
    page.click("#start-ingestion")
    page.wait_for_url(re.compile(r".*/run/?$"))
    stages, processed, elapsed = watch_run(page, f"make-{make_stack.target}: stage 4")
    assert stages[-1:] == [5], f"stage 5 never came by itself: stages {stages}, processed {processed}"
    assert 4 in stages and stages == sorted(stages), stages
    assert len(processed) >= 3 and processed == sorted(processed), f"progress did not move: {processed}"
    assert len(elapsed) >= 2, f"elapsed time did not tick: {elapsed}"
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    assert re.search(r"/run/?\?run=\d+$", page.url)
    assert text(page, "#result-heading") == "Ingestion complete"
    run = session.exec(select(IngestionRun)).one()
    assert (run.status, run.total_jobs_found, run.jobs_processed) == ("completed", total, total)
    assert [text(page, f"#stat-{k}") for k in ("found", "added", "failed")] == [
        str(run.total_jobs_found),
        str(run.jobs_added),
        str(run.jobs_failed),
    ]
    check_page(page, f"make-{make_stack.target}: stage 5")

    # Coming back to a run in progress (a fresh load of /run): it advances by itself as well.
    # (In development mode React mounts this page twice; an unmount handler that stopped polling
    # left it at "0 of N" every time on this path.)
    page.click("#start-new")
    page.wait_for_url(re.compile(r".*/companies/?$"))
    page.click("#to-preview")
    page.wait_for_function(f"document.querySelectorAll('.preview-count').length === {DEMO_COMPANIES}", timeout=120_000)
    page.click("#start-ingestion")
    page.wait_for_url(re.compile(r".*/run/?$"))
    page.goto(base + "/run")
    stages, processed, _ = watch_run(page)
    assert stages[-1:] == [5], f"stage 5 never came after a fresh load: stages {stages}, processed {processed}"
    assert 4 in stages, stages
    context.close()


def printed_app_address(stack: MakeStack, timeout: float = 30.0) -> str:
    """The address the command tells the user to open ("[dev] app: http://...")."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"\[dev\] app: (http://\S+)", stack.log_path.read_text(errors="replace"))
        if found:
            return found.group(1).rstrip("/")
        time.sleep(0.5)
    raise AssertionError(f"`{stack.command}` printed no app address; see {stack.log_path}")


def test_at_the_printed_address_a_session_survives_a_reload_and_signing_out_ends_it(make_stack: MakeStack, browser):
    # The frontend and the backend are two origins here (two ports); the session cookie is set by
    # the backend's host and must be the one the websocket presents, whichever loopback name the
    # user typed: the printed one (localhost) and 127.0.0.1.
    printed = printed_app_address(make_stack)
    assert printed == f"http://localhost:{make_stack.frontend_port}", printed
    for n, base in enumerate((printed, make_stack.base_url)):
        email = f"mo{n}@example.com"
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        context.set_default_timeout(60_000)
        page = context.new_page()
        OPEN_PAGES.append(page)
        page.goto(base + "/")
        page.get_by_role("radio", name="Register").click()
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url(re.compile(r".*/companies/?$"))
        page.wait_for_selector(f"#nav-user:has-text('{email}')")
        host = base.split("//", 1)[1].rsplit(":", 1)[0]
        deadline = time.monotonic() + 15  # the browser asks for the cookie right after signing in
        while not [c for c in context.cookies() if c["httpOnly"]] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert {c["domain"] for c in context.cookies() if c["httpOnly"]} == {host}, (base, context.cookies())

        page.reload()
        page.wait_for_selector(f"#nav-user:has-text('{email}')")
        assert re.search(r"/companies/?$", page.url), page.url
        second = context.new_page()  # a new tab of the same browser
        second.goto(base + "/history")
        second.wait_for_selector(f"#nav-user:has-text('{email}')")
        second.close()

        page.click("#sign-out")
        page.wait_for_selector("#email")
        assert not [c for c in context.cookies() if c["httpOnly"]], context.cookies()
        page.goto(base + "/companies")
        page.wait_for_url(re.compile(r".*/$"))
        page.wait_for_selector("#email")
        context.close()


def watch_run(page, axe_name: str = "") -> tuple[list[int], list[int], list[str]]:
    """Watch the run page (never reloading it) until stage 5 or 240 s: the stages seen, in order,
    and every distinct processed count and elapsed time of stage 4."""
    stages, processed, elapsed = [], [], []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        stage = next((n for n in (3, 4, 5) if page.locator(f"#stage-{n}").count()), 0)
        if stage and (not stages or stages[-1] != stage):
            stages.append(stage)
        if stage == 5:
            break
        if stage == 4:
            now = page.locator("#processed-of-total").all_inner_texts()  # no waiting: stage 5 may be there
            value = int(now[0].split()[0]) if now else None
            if value is not None and (not processed or processed[-1] != value):
                processed.append(value)
                if len(processed) == 2 and axe_name:
                    bar = page.get_by_role("progressbar", name="Job URLs processed")
                    assert bar.get_attribute("aria-valuenow") == text(page, "#percent").rstrip("%")
                    assert page.locator("#processed-of-total").get_attribute("aria-live") == "polite"
                    check_page(page, axe_name)
            seen = page.locator("#stat-elapsed").all_inner_texts()
            if seen and (not elapsed or elapsed[-1] != seen[0].strip()):
                elapsed.append(seen[0].strip())
        time.sleep(0.3)
    return stages, processed, elapsed


def text(page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()
