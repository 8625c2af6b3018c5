"""Fixtures for the deployment tests: the Lambda zip (built once per session) and a local AWS.

`aws` is one ministack per session on a free 127.0.0.1 port, started with an environment that
carries no database URL and no JWT secret, so a deployed function only gets what its stack and
its secret give it. Its Lambda service runs Python handlers from the zip with this machine's
interpreter, hence a build for this Python version.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from collections.abc import Iterator

import pytest

from devtools.emulator import stop_process
from tests.support.local_aws import ROOT, LambdaBuild, LocalAws, start_local_aws


@pytest.fixture(scope="session")
def lambda_build(tmp_path_factory: pytest.TempPathFactory) -> LambdaBuild:
    """`make lambda-zip`'s manylinux build, for the Python of this machine (python3.11): the
    emulator runs handlers with this interpreter, and these wheels load here as on AWS."""
    base = tmp_path_factory.mktemp("lambda-build")
    zip_path, build_dir = base / "lambda-worker.zip", base / "staging"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_lambda_zip.py"), "--python-version", platform.python_version(),
         "--output", str(zip_path), "--build-dir", str(build_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return LambdaBuild(zip_path=zip_path, build_dir=build_dir, report=result.stdout)


@pytest.fixture(scope="session")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAws]:
    handle = start_local_aws(tmp_path_factory.mktemp("ministack") / "ministack.log")
    try:
        yield handle
    finally:
        stop_process(handle.process.pid, process=handle.process)
