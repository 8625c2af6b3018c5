"""Scale benchmark: many companies, each on its own host, a first run and an unchanged re-run.

    python bench/scale_bench.py --companies 40 --jobs-per-company 20 [--latency-ms 200] [--workers 2]
        [--page-size 50]

Serves Greenhouse, Lever, Ashby and careers-page companies (a quarter each) from one asyncio
server in this process: each ATS family on its own loopback address (127.0.0.2-4, like the one
API host each real ATS has), each careers company on its own (127.0.0.10 and up), all on one port.
Every answer waits `--latency-ms`, carries an ETag and a Last-Modified, and a request whose
If-None-Match / If-Modified-Since matches gets a 304. The real pipeline runs against it: the SQS
emulator, `--workers` worker processes, stage 3 in this process, PostgreSQL (a throwaway database
unless DATABASE_URL is set).

Prints one JSON line per run ("first", then "rerun" with nothing changed on the site): wall time
(start of stage 3 .. completion), requests by kind (listing / job / detail / robots), 200s and
304s, the most requests one host had in flight at once, jobs/s and CPU ms per job.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import secrets
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest_bench import (  # noqa: E402
    cpu_snapshot,
    delete_user,
    log,
    start_workers,
    stop_workers,
    throwaway_database,
)

FAMILY_HOSTS = {"greenhouse": "127.0.0.2", "lever": "127.0.0.3", "ashby": "127.0.0.4"}
CAREERS_FIRST = 10  # careers company i is served at 127.0.0.(10 + i)


def classify(path: str, query: dict[str, list[str]]) -> str:
    parts = [p for p in path.split("/") if p]
    if path == "/robots.txt":
        return "robots"
    if parts[:1] == ["greenhouse"]:
        return "detail" if len(parts) > 5 else "listing"
    if parts[:1] == ["lever"]:
        return "job" if len(parts) > 4 else "listing"
    if parts[:1] in (["ashby"], ["careers"]):
        return "listing"
    return "job"


class ConditionalSite:
    """The demo site behind an asyncio HTTP/1.1 server (keep-alive), with validators and counters."""

    def __init__(self, site, latency: float) -> None:
        self.site = site
        self.latency = latency
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self.last_modified = formatdate(time.time() - 3600, usegmt=True)
        self.loop = asyncio.new_event_loop()
        self.servers: list[asyncio.base_events.Server] = []
        self.port = 0

    def reset_counts(self) -> None:
        with self.lock:
            self.counts.clear()
            self.max_in_flight.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length") or 0)
                body = json.loads(await reader.readexactly(length)) if length else None
                await self._answer(writer, host, method, target, headers, body)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _answer(self, writer, host, method, target, headers, body) -> None:
        parts = urlsplit(target)
        query = parse_qs(parts.query)
        kind = classify(parts.path, query)
        with self.lock:
            self.in_flight[host] += 1
            self.max_in_flight[host] = max(self.max_in_flight[host], self.in_flight[host])
        try:
            await asyncio.sleep(self.latency)
            status, ctype, payload, _extra = self.site.respond(parts.path, query, f"{host}:{self.port}", method, body)
        finally:
            with self.lock:
                self.in_flight[host] -= 1
        etag = '"' + hashlib.sha256(payload).hexdigest()[:20] + '"'
        out_headers = {"Content-Type": ctype, "ETag": etag, "Last-Modified": self.last_modified}
        not_modified = False
        if status == 200 and method == "GET":
            if "if-none-match" in headers:
                not_modified = etag in [t.strip() for t in headers["if-none-match"].split(",")]
            elif "if-modified-since" in headers:
                try:
                    since = parsedate_to_datetime(headers["if-modified-since"])
                    not_modified = since >= parsedate_to_datetime(self.last_modified)
                except (TypeError, ValueError):
                    not_modified = False
        if not_modified:
            status, payload = 304, b""
            out_headers.pop("Content-Type")
        with self.lock:
            self.counts[f"{kind}:{status}"] += 1
        reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}.get(status, "Status")
        head = f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(payload)}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in out_headers.items()
        )
        writer.write(head.encode("latin-1") + b"\r\n" + payload)
        await writer.drain()

    def start(self, hosts: list[str]) -> None:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()

        async def serve() -> None:
            for host in hosts:
                server = await asyncio.start_server(self._handle, host, self.port, backlog=512)
                self.servers.append(server)

        threading.Thread(target=self.loop.run_forever, name="scale-site", daemon=True).start()
        asyncio.run_coroutine_threadsafe(serve(), self.loop).result(30)

    def stop(self) -> None:
        async def close() -> None:
            for server in self.servers:
                server.close()
            current = asyncio.current_task()
            for task in asyncio.all_tasks():
                if task is not current:
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


def build_site(companies: int, per_company: int, page_size: int = 50):
    from devtools.demo.site import DemoSite

    site = DemoSite(page_kb=8, nav_links=40)
    kinds = ("greenhouse", "lever", "ashby", "careers")
    sources: list[tuple[str, str, str]] = []  # (name, kind, slug)
    for i in range(companies):
        kind = kinds[i % len(kinds)]
        company = site.add_company(f"Scale {kind} {i}", kind, slug=f"{kind}-{i}", jobs=per_company, page_size=page_size)
        sources.append((company.name, kind, company.slug))
    return site, sources


def run_and_wait(user_id: int, timeout: float) -> tuple[object, float, float]:
    from ingest_app.core.db import session_scope
    from ingest_app.core.models import IngestionRun
    from ingest_app.core.pipeline import run_stage3, start_run

    started = time.monotonic()
    with session_scope() as session:
        run_id = start_run(session, user_id).run_id
    run_stage3(run_id)
    stage3 = time.monotonic() - started
    deadline = time.monotonic() + timeout
    while True:
        with session_scope() as session:
            run = session.get(IngestionRun, run_id, populate_existing=True)
            session.expunge(run)
        if run.status in ("completed", "failed") or time.monotonic() > deadline:
            return run, time.monotonic() - started, stage3
        time.sleep(0.1)


def summary(label: str, run, wall: float, stage3: float, site: ConditionalSite, cpu: dict[str, float], args) -> dict:
    with site.lock:
        counts = dict(site.counts)
        peak = max(site.max_in_flight.values(), default=0)
    by_kind: dict[str, dict[str, int]] = {}
    for key, n in sorted(counts.items()):
        kind, status = key.split(":")
        by_kind.setdefault(kind, {})[status] = n
    ok = sum(n for k, n in counts.items() if k.endswith(":200"))
    not_modified = sum(n for k, n in counts.items() if k.endswith(":304"))
    jobs = run.total_jobs_found or 0
    return {
        "run": label,
        "companies": args.companies,
        "jobs_per_company": args.jobs_per_company,
        "latency_ms": args.latency_ms,
        "status": run.status,
        "jobs": jobs,
        "processed": run.jobs_processed,
        "added": run.jobs_added,
        "failed": run.jobs_failed,
        "archived": run.jobs_archived,
        "wall_seconds": round(wall, 2),
        "stage3_seconds": round(stage3, 2),
        "requests": sum(counts.values()),
        "requests_by_kind": by_kind,
        "responses_200": ok,
        "responses_304": not_modified,
        "other_responses": sum(counts.values()) - ok - not_modified,
        "max_in_flight_one_host": peak,
        "jobs_per_second": round(jobs / wall, 1) if wall else None,
        "cpu_ms_per_job": {k: round(1000 * v / max(1, jobs), 2) for k, v in cpu.items()}
        | {"total": round(1000 * sum(cpu.values()) / max(1, jobs), 2)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=40)
    parser.add_argument("--jobs-per-company", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument(
        "--page-size", type=int, default=50, help="jobs per page of a careers listing (and of paged ATS answers)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2, help="batches in flight per worker")
    parser.add_argument("--batch-concurrency", type=int, default=10, help="records crawled at once per batch")
    parser.add_argument(
        "--list-concurrency", type=int, default=None, help="STAGE3_LIST_CONCURRENCY (default: the setting's)"
    )
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING, format="[bench] %(name)s: %(message)s", stream=sys.stderr)

    from devtools.emulator import start_emulator
    from ingest_app.accounts.users import create_user
    from ingest_app.core.companies import add_company
    from ingest_app.core.db import session_scope
    from ingest_app.core.queue import ensure_queues, reset_clients
    from ingest_app.core.settings import reset_settings_cache

    with ExitStack() as stack:
        if not os.environ.get("DATABASE_URL"):
            os.environ["DATABASE_URL"] = stack.enter_context(throwaway_database())
        os.environ.setdefault("JWT_SECRET", secrets.token_urlsafe(48))
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scale-bench-")))
        emulator = start_emulator(None)
        stack.callback(emulator.stop)

        site_data, sources = build_site(args.companies, args.jobs_per_company, args.page_size)
        site = ConditionalSite(site_data, args.latency_ms / 1000)
        careers = [slug for _, kind, slug in sources if kind == "careers"]
        careers_host = {slug: f"127.0.0.{CAREERS_FIRST + i}" for i, slug in enumerate(careers)}
        if len(careers_host) > 240:
            raise SystemExit("at most 240 careers companies (one loopback address each)")
        site.start(list(FAMILY_HOSTS.values()) + list(careers_host.values()))
        stack.callback(site.stop)
        port = site.port
        os.environ.update(
            {
                "SQS_ENDPOINT_URL": emulator.endpoint_url,
                "CRAWL_QUEUE_NAME": f"scale-crawl-{secrets.token_hex(3)}",
                "WORKER_WAIT_TIME_SECONDS": "2",
                "GREENHOUSE_API_BASE": f"http://{FAMILY_HOSTS['greenhouse']}:{port}/greenhouse",
                "LEVER_API_BASE": f"http://{FAMILY_HOSTS['lever']}:{port}/lever",
                "ASHBY_API_BASE": f"http://{FAMILY_HOSTS['ashby']}:{port}/ashby",
                "CRAWLER_ALLOW_PRIVATE_HOSTS": "1",
                "MAX_COMPANIES_PER_USER": str(max(200, args.companies)),
            }
        )
        if args.list_concurrency:
            os.environ["STAGE3_LIST_CONCURRENCY"] = str(args.list_concurrency)
        os.environ.pop("CRAWL_QUEUE_URL", None)
        reset_settings_cache()
        reset_clients()
        ensure_queues()
        workers = start_workers(args.workers, args, workdir)
        stack.callback(stop_workers, workers)

        with session_scope() as session:
            user = create_user(session, email=f"scale-{secrets.token_hex(4)}@example.com", password="bench-pass-1")
            for name, kind, slug in sources:
                if kind == "careers":
                    source = f"careers:http://{careers_host[slug]}:{port}/careers/{slug}/"
                else:
                    source = f"{kind}:{slug}"
                add_company(session, user.id, name=name, source=source)
            user_id = user.id
        stack.callback(delete_user, user_id)
        log(f"{len(sources)} companies x {args.jobs_per_company} jobs on {4 + len(careers)} hosts, port {port}")

        from sqlalchemy.engine import make_url

        database = make_url(os.environ["DATABASE_URL"]).database or ""
        worker_pids = [p.pid for p, _, _ in workers]
        for label in ("first", "rerun"):
            site.reset_counts()
            before = cpu_snapshot(worker_pids, emulator.pid, database)
            run, wall, stage3 = run_and_wait(user_id, args.timeout)
            after = cpu_snapshot(worker_pids, emulator.pid, database)
            time.sleep(0.5)  # late duplicate requests (none expected) show up in the counts
            cpu = {k: after[k] - before[k] for k in after}
            sys.stdout.write(json.dumps(summary(label, run, wall, stage3, site, cpu, args)) + "\n")
            sys.stdout.flush()
            if run.status != "completed":
                log(f"run {run.run_id} ended {run.status}: {run.error_message}")
                return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
