"""What a 200 MB POST to /api/auth/token costs the backend, with and without the body cap.

    python bench/body_cap_bench.py [--mb 200]

Serves the REST API with granian on a free loopback port, twice: with the default
MAX_REQUEST_BODY_BYTES and with the cap lifted (how the backend behaved before it had one). Each
time it POSTs the body once with a Content-Length and once chunked (no length), and prints one
JSON line per run: status codes, seconds, and the server's RSS growth in MB.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    """RSS of the server and its worker processes."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


def _wait_ready(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/openapi.json")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError("the API did not start")


def _post(port: int, mb: int, *, declared: bool) -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    conn.putrequest("POST", "/api/auth/token")
    conn.putheader("Content-Type", "application/json")
    if declared:
        conn.putheader("Content-Length", str(mb * CHUNK))
    else:
        conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    chunk = b'{"email": "' + b"a" * (CHUNK - 12) + b'"'
    try:
        for _ in range(mb):
            conn.send(chunk if declared else b"%x\r\n%s\r\n" % (len(chunk), chunk))
        if not declared:
            conn.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered early and closed: that is the point
    try:
        status = conn.getresponse().status
    except (http.client.HTTPException, OSError):
        status = 0
    return status, time.perf_counter() - started


def run(mb: int, cap: int | None) -> dict:
    port = _free_port()
    env = {**os.environ, "APP_ENV": "development", "PYTHONPATH": str(ROOT)}
    if cap is not None:
        env["MAX_REQUEST_BODY_BYTES"] = str(cap)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "ingest_app.api.main:api",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_ready(port)
        result = {"cap_bytes": cap, "mb": mb, "rss_start_mb": round(_rss_mb(server.pid), 1)}
        for declared in (True, False):
            before = _rss_mb(server.pid)
            status, seconds = _post(port, mb, declared=declared)
            time.sleep(0.5)
            key = "declared" if declared else "chunked"
            result[f"{key}_status"] = status
            result[f"{key}_seconds"] = round(seconds, 2)
            result[f"{key}_rss_growth_mb"] = round(_rss_mb(server.pid) - before, 1)
        return result
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(15)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(run(args.mb, None)))  # the default cap
    print(json.dumps(run(args.mb, 64 * 1024 * 1024 * 1024)))  # cap lifted: the old behaviour


if __name__ == "__main__":
    main()
