"""`scripts/build_lambda_zip.py`: what goes into the Lambda zip, and that it is enough to run."""

from __future__ import annotations

import importlib.util
import platform
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import build_lambda_zip  # noqa: E402

from tests.support.local_aws import LOCAL_PYTHON  # noqa: E402

# What the Lambda Python runtime provides besides the standard library.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "dateutil", "six", "urllib3")
# Never in the zip: the accounts (PyJWT, passlib), the migrations (alembic) and the local tooling.
NOT_SHIPPED = (
    "ingest_app/accounts/",
    "ingest_app/migrations.py",
    "ingest_app/demo/",
    "ingest_app/core/emulator.py",
    "lambda_worker/poller.py",
    "devtools/",
)


def test_zip_holds_the_handlers_and_core_but_no_ui(lambda_build):
    names = zipfile.ZipFile(lambda_build.zip_path).namelist()

    for required in (
        "lambda_worker/__init__.py",
        "lambda_worker/crawl_job_lambda.py",
        "lambda_worker/stale_run_lambda.py",
        "ingest_app/__init__.py",
        "ingest_app/core/settings.py",
        "ingest_app/core/aws_secrets.py",
        "ingest_app/core/pipeline/__init__.py",
        "psycopg2/__init__.py",
        "aws_lambda_powertools/__init__.py",
    ):
        assert required in names
    tops = {name.split("/")[0] for name in names}
    assert not tops & {"reflex", "fastapi", "starlette", "alembic", "boto3", "botocore", "bin", "tests", "devtools"}
    ingest_dirs = {name.split("/")[1] for name in names if name.startswith("ingest_app/") and name.count("/") > 1}
    assert ingest_dirs == {"core"}
    assert [n for n in names if n.startswith("ingest_app/") and n.count("/") == 1] == ["ingest_app/__init__.py"]
    assert not [n for n in names if n.startswith(NOT_SHIPPED)]
    ours = [n for n in names if n.startswith(("ingest_app/", "lambda_worker/"))]
    assert not [n for n in ours if "emulator" in n or "poller" in n or "demo" in n]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_packaged_handlers_import_with_nothing_but_the_zip_and_the_runtime(lambda_build):
    """A fresh interpreter without site-packages: only the unpacked zip, the standard library and
    what the Lambda runtime ships (boto3) can be imported, and every module of the zip imports."""
    boto3_dir = Path(importlib.util.find_spec("boto3").origin).parents[1]
    script = f"""
import importlib, importlib.machinery, sys
sys.path.insert(0, {str(lambda_build.build_dir)!r})
class RuntimeProvided:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if path is None and name in {RUNTIME_PROVIDED!r}:
            return importlib.machinery.PathFinder.find_spec(name, [{str(boto3_dir)!r}])
sys.meta_path.append(RuntimeProvided)
import ingest_app.core, lambda_worker, pkgutil
for package in (ingest_app.core, lambda_worker):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
import psycopg2.extensions, pydantic_core, lxml.etree  # compiled extensions load
assert sys.modules["ingest_app"].__file__.startswith({str(lambda_build.build_dir)!r})
print("ok", sorted(m for m in sys.modules if m.split(".")[0] in ("reflex", "fastapi", "alembic")))
"""
    env = {"PATH": "/usr/bin:/bin", "APP_ENV": "worker", "DATABASE_URL": "postgresql://u@127.0.0.1/db"}
    result = subprocess.run(
        [sys.executable, "-S", "-I", "-c", script], capture_output=True, text=True, env=env, cwd="/", timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok []"


def test_zip_bytes_depend_only_on_the_files(tmp_path):
    source = tmp_path / "src"
    (source / "pkg").mkdir(parents=True)
    (source / "pkg" / "b.py").write_text("B = 2\n")
    (source / "pkg" / "a.py").write_text("A = 1\n")
    (source / "pkg" / "__pycache__").mkdir()
    (source / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")

    first, second = tmp_path / "1.zip", tmp_path / "2.zip"
    build_lambda_zip.write_zip(source, first)
    (source / "pkg" / "a.py").touch()  # a new mtime changes nothing
    build_lambda_zip.write_zip(source, second)

    assert first.read_bytes() == second.read_bytes()
    assert zipfile.ZipFile(first).namelist() == ["pkg/a.py", "pkg/b.py"]


def test_build_installs_manylinux_wheels_for_the_requested_python(lambda_build):
    names = zipfile.ZipFile(lambda_build.zip_path).namelist()
    tag = f"cpython-{LOCAL_PYTHON.replace('.', '')}-x86_64-linux-gnu.so"

    assert "lambda-worker.zip: " in lambda_build.report
    assert f"for python{platform.python_version()} on manylinux2014_x86_64" in lambda_build.report
    extensions = [n for n in names if n.endswith(".so") and n.startswith(("pydantic_core/", "psycopg2/", "lxml/etree"))]
    assert len(extensions) >= 3 and all(n.endswith(tag) for n in extensions), extensions
    wheel_tags = [
        zipfile.ZipFile(lambda_build.zip_path).read(n).decode() for n in names if n.endswith(".dist-info/WHEEL")
    ]
    platform_tags = [
        line for text in wheel_tags for line in text.splitlines() if line.startswith("Tag:") and "linux" in line
    ]
    assert platform_tags and all("manylinux" in line for line in platform_tags), platform_tags
