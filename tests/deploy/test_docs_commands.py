"""Every command in README.md and docs/DEPLOY.md that starts something, run as written (parsed out
of the docs) on free loopback ports, and checked to answer: the backend-only server (`/ping`), the
frontend export (its `index.html`, bound to the documented `API_URL`), the Lambda zip (its
contents). `make run` / `make dev` are run by the browser tests (tests/ui/test_ui_make_run.py)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from devtools.emulator import free_port
from devtools.frontend_server import FrontendServer
from tests.support.doc_commands import ROOT, all_doc_commands, starting_commands

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# Who runs each kind of start command of the docs.
COVERED = {
    "reflex run": "test_the_documented_backend_starts_and_answers_ping",
    "reflex export": "test_the_documented_frontend_export_holds_an_index_bound_to_its_api_url",
    "make lambda-zip": "test_the_documented_lambda_zip_build_writes_the_worker_zip",
    "make run": "tests/ui/test_ui_make_run.py",
    "make dev": "tests/ui/test_ui_make_run.py",
}


def shell_env(**extra: str) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if k not in ("FRONTEND_PORT", "BACKEND_PORT", "API_URL", "PORT")}
    return {
        **env,
        "PATH": venv_bin + os.pathsep + env.get("PATH", ""),
        "REFLEX_USE_NPM": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        **extra,
    }


def only(kind: str):
    found = starting_commands(kind)
    assert len(found) == 1, f"expected one `{kind}` command in the docs, found {found}"
    return found[0]


def test_every_command_in_the_docs_that_starts_something_is_run_by_a_test():
    kinds = {}
    for command in all_doc_commands():
        if command.kind is not None:
            kinds.setdefault(command.kind, []).append(f"{command.doc}:{command.line}")
    assert not set(kinds) - set(COVERED), f"start commands no test runs: {kinds}"
    assert set(kinds) >= {"reflex run", "reflex export", "make lambda-zip", "make run", "make dev"}, kinds


def test_the_documented_backend_starts_and_answers_ping(tmp_path):
    command = only("reflex run")
    assert "--backend-only" in command.words and "--env" in command.words
    port = free_port()
    dead_end = f"http://127.0.0.1:{free_port()}"  # nothing listens: no AWS traffic whatever happens
    env = shell_env(
        APP_ENV="production",
        JWT_SECRET=secrets.token_urlsafe(48),  # production refuses the tests' low-entropy secret
        CRAWLER_ALLOW_PRIVATE_HOSTS="0",  # and private crawl targets
        PORT=str(port),
        REFLEX_BACKEND_HOST="127.0.0.1",
        SQS_ENDPOINT_URL=dead_end,
        CRAWL_QUEUE_URL=f"{dead_end}/000000000000/job-ingest-crawl",
        AWS_REGION="eu-west-1",
    )
    log = tmp_path / "backend.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["bash", "-c", command.text], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        answer = None
        while time.monotonic() < deadline and answer is None:
            assert proc.poll() is None, f"`{command.text}` exited {proc.returncode}:\n{log.read_text()[-3000:]}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as response:
                    answer = (response.status, json.loads(response.read()))
            except OSError:
                time.sleep(0.5)
        assert answer == (200, "pong"), log.read_text()[-3000:]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.json", timeout=5) as response:
            assert "/api/ingest/start" in json.loads(response.read())["paths"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_the_documented_frontend_export_holds_an_index_bound_to_its_api_url():
    command = only("reflex export")
    api_url = next(word.split("=", 1)[1] for word in command.text.split() if word.startswith("API_URL="))
    # The export's block: export, unpack, upload; everything before the upload runs here.
    steps = list(command.block[command.block.index(command.text) :])
    steps = steps[: next((i for i, s in enumerate(steps) if s.startswith("aws ")), len(steps))]
    assert len(steps) >= 2, steps
    outputs = [ROOT / "frontend.zip", ROOT / "frontend"]
    assert not any(path.exists() for path in outputs), f"move these out of the way first: {outputs}"
    try:
        result = subprocess.run(
            ["bash", "-c", "set -e\n" + "\n".join(steps)], cwd=ROOT, env=shell_env(),
            capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
        assert "index.html" in zipfile.ZipFile(ROOT / "frontend.zip").namelist()
        site = ROOT / "frontend"
        assert (site / "index.html").is_file() and (site / "companies.html").is_file()
        bundled = "".join(p.read_text(errors="replace") for p in site.rglob("*.js"))
        assert api_url in bundled, f"{api_url} is not in the exported bundle"

        # The files answer as a static host serves them.
        server = FrontendServer(site, "127.0.0.1", 0).start()
        server.ready()
        try:
            for path in ("/", "/companies", "/run?run=3"):
                with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=5) as response:
                    assert response.status == 200 and b"<html" in response.read()
        finally:
            server.stop()
    finally:
        (ROOT / "frontend.zip").unlink(missing_ok=True)
        shutil.rmtree(ROOT / "frontend", ignore_errors=True)


def test_the_documented_lambda_zip_build_writes_the_worker_zip():
    command = only("make lambda-zip")
    result = subprocess.run(
        ["bash", "-c", command.text], cwd=ROOT, env=shell_env(), capture_output=True, text=True, timeout=600,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    zip_path = ROOT / "dist" / "lambda-worker.zip"
    assert str(zip_path.relative_to(ROOT)) in command.text  # where the doc says it goes
    names = zipfile.ZipFile(zip_path).namelist()
    assert {
        "lambda_worker/crawl_job_lambda.py",
        "lambda_worker/stale_run_lambda.py",
        "ingest_app/core/settings.py",
    } <= set(names)
    assert not {name.split("/")[0] for name in names} & {"reflex", "fastapi", "tests"}
    assert "lambda-worker.zip" in result.stdout  # it prints what it wrote
