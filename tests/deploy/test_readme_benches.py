"""The measurement commands the README tells a user to type run and print their JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, timeout: float) -> dict:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_fetch_bench_prints_cpu_per_page() -> None:
    result = _run("bench/fetch_bench.py", "--pages", "30", "--rounds", "1", "--threads", "1", "2", timeout=120)
    assert result["pages"] == 30
    for name in ("fetch", "extract_job"):
        assert set(result[name]) == {"1", "2"} and all(v["best_cpu_ms"] > 0 for v in result[name].values())


@pytest.mark.slow
def test_ingest_bench_completes_a_run_and_splits_the_workers_cpu() -> None:
    result = _run("bench/ingest_bench.py", "--jobs", "100", "--latency-ms", "0", timeout=300)
    assert (result["jobs"], result["jobs_added"], result["jobs_failed"]) == (100, 100, 0)
    cpu = result["cpu_ms_per_job"]
    assert cpu["workers_handler"] + cpu["workers_event_source"] == pytest.approx(cpu["workers"], abs=0.02)
