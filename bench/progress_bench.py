"""Progress endpoint under 50 concurrent pollers, served by granian on loopback, on PostgreSQL.

    python bench/progress_bench.py [--pollers 50] [--interval 1.0] [--duration 15] [--items 2000]

Creates a throwaway database on the local PostgreSQL (admin URL from TEST_DATABASE_URL, default
postgres@127.0.0.1:5432) unless DATABASE_URL is given (then a bench user is added there and deleted
at the end). Seeds one `ingesting` run with `--items` items (`--failed` of them failed), serves the
real FastAPI app (`ingest_app.api.main:api`) with granian on 127.0.0.1, and lets `--pollers`
clients each poll `GET /api/ingest/runs/{id}/progress` every `--interval` seconds (the UI polls
every 3 s; 1 s is the harder default) for `--duration` seconds; then a closed loop (every poller
re-polls at once) measures the ceiling. Prints one JSON line; figures in milliseconds.
`server_cpu_ms_per_request` (CPU time of the server processes / requests) stays meaningful when
other work shares the machine; `load_average_1m` says how busy it was.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def database() -> Any:
    """DATABASE_URL if given (left in place), else a throwaway database dropped at the end."""
    if os.environ.get("DATABASE_URL"):
        from ingest_app.core.settings import get_settings

        yield get_settings().database_url, False  # normalized to the project's driver
        return
    admin = make_url(ADMIN_URL).set(drivername="postgresql+psycopg2")
    name = f"ingest_bench_{secrets.token_hex(4)}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False), True
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def seed(url: str, items: int, failed: int) -> tuple[int, int]:
    """One user with one `ingesting` run of `items` items, `failed` of them failed. (user_id, run_id)."""
    from ingest_app.core.models import IngestionRun, IngestionRunItem, User
    from ingest_app.migrations import upgrade

    upgrade(url)
    engine = sa.create_engine(url)
    now = datetime.now(timezone.utc)
    companies = [
        {
            "company_id": i,
            "name": f"Company {i}",
            "source": f"greenhouse:company{i}",
            "listed": items // 5,
            "archived": 3,
            "error": None,
        }
        for i in range(1, 6)
    ]
    succeeded = items * 3 // 4
    with engine.begin() as conn:
        user_id = conn.execute(
            sa.insert(User.__table__)
            .values(email=f"bench-{secrets.token_hex(3)}@example.com", password_hash="x", created_at=now)
            .returning(User.__table__.c.id)
        ).scalar_one()
        run_id = conn.execute(
            sa.insert(IngestionRun.__table__)
            .values(
                user_id=user_id,
                status="ingesting",
                current_stage=4,
                total_jobs_found=items,
                jobs_processed=succeeded + failed,
                jobs_added=succeeded,
                jobs_failed=failed,
                jobs_archived=15,
                companies=companies,
                created_at=now - timedelta(minutes=3),
                started_at=now - timedelta(minutes=3),
                last_heartbeat=now,
                retry_count=0,
            )
            .returning(IngestionRun.__table__.c.run_id)
        ).scalar_one()
        rows = []
        for i in range(items):
            state = "failed" if i < failed else ("succeeded" if i < failed + succeeded else "pending")
            rows.append(
                {
                    "run_id": run_id,
                    "company_id": 1 + i % 5,
                    "company": f"Company {1 + i % 5}",
                    "url": f"https://jobs.example.com/company{1 + i % 5}/jobs/{i}",
                    "hints": {},
                    "state": state,
                    "error": "http_404: the job page is gone" if state == "failed" else None,
                    "attempts": 1 if state != "pending" else 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        conn.execute(sa.insert(IngestionRunItem.__table__), rows)
    engine.dispose()
    return user_id, run_id


def remove_user(url: str, user_id: int) -> None:
    """Delete the bench user; its run and items go with it (ON DELETE CASCADE)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM users WHERE id = :id"), {"id": user_id})
    engine.dispose()


def server_cpu_seconds(server: subprocess.Popen) -> float:
    """CPU time of the server and its worker processes so far (robust to a busy machine)."""
    root = psutil.Process(server.pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "test", "JWT_SECRET": BENCH_SECRET}
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
            str(workers),
            "--log-level",
            "warning",
            "--no-ws",
            "ingest_app.api.main:api",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"granian exited with {server.returncode}") from None
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("granian did not start within 60 s")


BENCH_SECRET = "bench-secret-" + secrets.token_hex(24)


class Poller:
    """One keep-alive HTTP/1.1 connection; a minimal client so the load generator stays cheap."""

    def __init__(self, port: int, request: bytes) -> None:
        self.port, self.request = port, request
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self) -> tuple[int, int]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await self.reader.readexactly(length)
        return status, len(body)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def load(port: int, token: str, run_id: int, pollers: int, duration: float, interval: float) -> dict:
    request = (
        f"GET /api/ingest/runs/{run_id}/progress HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    errors = 0
    sizes: set[int] = set()
    stop = time.monotonic() + duration

    async def poll(poller: Poller) -> None:
        nonlocal errors
        if interval:
            await asyncio.sleep(random.uniform(0, interval))  # pollers start spread out, like real clients
        while time.monotonic() < stop:
            tick = time.monotonic()
            status, size = await poller.get()
            latencies.append((time.monotonic() - tick) * 1000)
            sizes.add(size)
            errors += status != 200
            if interval:
                await asyncio.sleep(max(0.0, interval - (time.monotonic() - tick)))

    clients = [Poller(port, request) for _ in range(pollers)]
    for client in clients:  # warm up: connections, the app's first imports, the DB pool
        await client.get()
    started = time.monotonic()
    await asyncio.gather(*(poll(c) for c in clients))
    elapsed = time.monotonic() - started
    for client in clients:
        await client.close()
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(cuts[49], 2),
        "p95_ms": round(cuts[94], 2),
        "p99_ms": round(cuts[98], 2),
        "max_ms": round(max(latencies), 2),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "response_bytes": max(sizes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pollers", type=int, default=50)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between one poller's requests")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--closed-loop-duration", type=float, default=5.0, help="0 skips the ceiling measure")
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--failed", type=int, default=150)
    parser.add_argument("--workers", type=int, default=1, help="granian worker processes")
    args = parser.parse_args()

    os.environ["JWT_SECRET"] = BENCH_SECRET
    os.environ.setdefault("APP_ENV", "test")
    with database() as (url, throwaway):
        os.environ["DATABASE_URL"] = url
        user_id, run_id = seed(url, args.items, args.failed)
        from ingest_app.accounts.security import create_access_token

        token = create_access_token(user_id).access_token
        port = free_port()
        server = serve(url, port, args.workers)
        try:
            cpu_before = server_cpu_seconds(server)
            paced = asyncio.run(load(port, token, run_id, args.pollers, args.duration, args.interval))
            paced["server_cpu_ms_per_request"] = round(
                (server_cpu_seconds(server) - cpu_before) * 1000 / max(1, paced["requests"] + args.pollers), 2
            )
            ceiling = (
                asyncio.run(load(port, token, run_id, args.pollers, args.closed_loop_duration, 0.0))
                if args.closed_loop_duration > 0
                else None
            )
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
            if not throwaway:
                remove_user(url, user_id)
    result = {
        **paced,
        "pollers": args.pollers,
        "interval_s": args.interval,
        "items": args.items,
        "failed_items": args.failed,
        "server": f"granian asgi, {args.workers} worker(s), 127.0.0.1",
        "database": "throwaway PostgreSQL" if throwaway else "DATABASE_URL",
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    if ceiling is not None:
        result["closed_loop"] = {k: ceiling[k] for k in ("p50_ms", "p95_ms", "requests_per_second", "errors")}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
