"""Build the AWS Lambda deployment zip: `lambda_worker` + `ingest_app.core` + their wheels.

    python scripts/build_lambda_zip.py                       # manylinux wheels for python3.12
    python scripts/build_lambda_zip.py --python-version 3.11 # for the python3.11 runtime
    python scripts/build_lambda_zip.py --native              # for this interpreter (local emulator)

Dependencies come from `lambda_worker/requirements.txt`, installed with pip as binary wheels for
the Lambda platform (`--platform manylinux2014_x86_64 --only-binary=:all:`), never built here.
The zip holds no reflex, no UI, no API, no accounts (`ingest_app/accounts`), no migrations, no
local tooling (`devtools/`: the emulator supervisor, the local poller, the demo site) and no tests:
`ingest_app/core` is exactly what the worker may import (tests/test_import_graph.py). It is
deterministic: the same sources and wheels give the same bytes (sorted entries, fixed timestamps
and permissions).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "dist" / "lambda-worker.zip"
DEFAULT_BUILD_DIR = ROOT / "build" / "lambda"
REQUIREMENTS = ROOT / "lambda_worker" / "requirements.txt"

# Our own code in the zip: the handlers and everything they import (lambda_worker imports only
# ingest_app.core, which imports nothing else of ours: no reflex, UI, API, accounts or devtools).
SOURCE_FILES = ["ingest_app/__init__.py"]
SOURCE_DIRS = ["ingest_app/core", "lambda_worker"]
SKIP_DIRS = {"__pycache__", "tests", ".pytest_cache"}
SKIP_SUFFIXES = {".pyc", ".pyo"}
# Installed by pip but never needed at run time.
SKIP_TOP_LEVEL = {"bin", "__pycache__"}
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
DEFAULT_PLATFORM = "manylinux2014_x86_64"  # glibc 2.17: loads on every Lambda Python runtime


def pip_install(target: Path, *, python_version: str, platforms: list[str], native: bool) -> None:
    cmd = [
        sys.executable, "-m", "pip", "install",
        "--quiet", "--disable-pip-version-check", "--no-compile",
        "--target", str(target),
        "-r", str(REQUIREMENTS),
    ]  # fmt: skip
    if not native:
        for platform in platforms:
            cmd += ["--platform", platform]
        cmd += [
            "--implementation", "cp",
            "--python-version", python_version,
            "--only-binary=:all:",
        ]  # fmt: skip
    subprocess.run(cmd, check=True)


def copy_sources(target: Path) -> None:
    for rel in SOURCE_FILES:
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest)
    for rel in SOURCE_DIRS:
        for path in _walk(ROOT / rel):
            dest = target / path.relative_to(ROOT)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)


def _walk(base: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            if Path(name).suffix not in SKIP_SUFFIXES:
                yield Path(dirpath) / name


def write_zip(source: Path, output: Path) -> int:
    """Zip `source` deterministically into `output`; return the number of files."""
    files = sorted(
        path
        for path in _walk(source)
        if path.relative_to(source).parts[0] not in SKIP_TOP_LEVEL and not path.is_symlink()
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=ZIP_EPOCH)
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    tmp.replace(output)
    return len(files)


def build(
    output: Path = DEFAULT_OUTPUT,
    *,
    build_dir: Path = DEFAULT_BUILD_DIR,
    python_version: str = "3.12",
    platforms: list[str] | None = None,
    native: bool = False,
) -> Path:
    platforms = platforms or [DEFAULT_PLATFORM]
    if build_dir.exists():
        shutil.rmtree(build_dir)
    build_dir.mkdir(parents=True)
    pip_install(build_dir, python_version=python_version, platforms=platforms, native=native)
    copy_sources(build_dir)
    count = write_zip(build_dir, output)
    size = output.stat().st_size
    if native:
        target = f"this interpreter (python{sys.version_info.major}.{sys.version_info.minor})"
    else:
        target = f"python{python_version} on {', '.join(platforms)}"
    print(f"{output}: {size / 1_048_576:.1f} MiB, {count} files, for {target}")
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="zip to write (%(default)s)")
    parser.add_argument("--build-dir", type=Path, default=DEFAULT_BUILD_DIR, help="staging directory, emptied first")
    parser.add_argument(
        "--python-version",
        default="3.12",
        help="Python of the Lambda runtime (%(default)s); add the patch level (3.11.9) when a package needs one",
    )
    parser.add_argument(
        "--platform",
        action="append",
        dest="platforms",
        help=f"wheel platform tag, repeatable ({DEFAULT_PLATFORM}; python3.12 also accepts manylinux_2_28_x86_64)",
    )
    parser.add_argument(
        "--native",
        action="store_true",
        help="install wheels for this interpreter instead (to run the zip in a local emulator)",
    )
    args = parser.parse_args(argv)
    build(
        args.output.resolve(),
        build_dir=args.build_dir.resolve(),
        python_version=args.python_version,
        platforms=args.platforms,
        native=args.native,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
