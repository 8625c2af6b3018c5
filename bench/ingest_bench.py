"""Ingestion benchmark: one full run through the local queue, worker processes and PostgreSQL.

    python bench/ingest_bench.py --jobs 2000 [--latency-ms 20] [--workers 2] [--concurrency 4]

Starts everything it needs on 127.0.0.1 and stops it afterwards: the SQS emulator (ministack), a
demo site with `--jobs` job pages (~`--page-kb` KB each, JSON-LD) behind careers pages, and
`--workers` worker processes (`python -m ingest_app worker`). Uses `DATABASE_URL`; without it, a
throwaway database on the local PostgreSQL (`BENCH_ADMIN_DATABASE_URL`, default
postgresql://postgres@127.0.0.1:5432/postgres) is created, migrated and dropped.

Prints one JSON line:
  jobs_per_second           total jobs / run duration (start_run .. completed_at: stage 3 + crawl)
  parse_ceiling_per_second  the same pages parsed in one process, no network, no database
  ratio                     jobs_per_second / parse_ceiling_per_second
  p95_item_seconds          95th percentile of one item in the worker (fetch, parse, record)
  worker_peak_rss_mb        the largest peak RSS of any worker process
  cpu_ms_per_job            CPU per job by part: workers (whole processes), of which
                            workers_event_source (receiving and deleting messages, which the
                            event-source mapping does on AWS) and workers_handler (the rest: what a
                            Lambda would spend), the SQS emulator, this script with the demo site,
                            and the database's backends
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def log(message: str) -> None:
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


@contextmanager
def throwaway_database() -> Iterator[str]:
    from ingest_app.migrations import upgrade

    admin = make_url(ADMIN_URL).set(drivername="postgresql+psycopg2")
    name = f"ingest_bench_{secrets.token_hex(4)}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        from ingest_app.core.db import dispose_engines

        dispose_engines()
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def parse_ceiling(site, urls: list[str]) -> float:
    """Pages per second when one process only decodes and extracts them (bodies rendered up front)."""
    from urllib.parse import urlsplit

    from ingest_app.core.crawl.extract import extract_from_html

    host = urlsplit(site.base_url).netloc
    pages = [(url, site.respond(urlsplit(url).path, {}, host)[2]) for url in urls]
    started = time.perf_counter()
    for url, body in pages:
        extract_from_html(body.decode("utf-8"), url)
    return len(pages) / (time.perf_counter() - started)


class RssSampler:
    """Peak RSS per process, sampled every `interval` seconds."""

    def __init__(self, pids: list[int], interval: float = 0.1) -> None:
        self.peaks = dict.fromkeys(pids, 0)
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        procs = {pid: psutil.Process(pid) for pid in self.peaks}
        while not self._stop.is_set():
            for pid, proc in procs.items():
                try:
                    self.peaks[pid] = max(self.peaks[pid], proc.memory_info().rss)
                except psutil.Error:
                    pass
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def cpu_snapshot(worker_pids: list[int], emulator_pid: int, database: str) -> dict[str, float]:
    """CPU seconds used so far by each part of the system (postgres: the backends of our database)."""
    backends = [
        p
        for p in psutil.process_iter(["cmdline"])
        if p.info["cmdline"] and f" {database} " in " ".join(p.info["cmdline"]) + " "
    ]
    return {
        "workers": cpu_seconds([psutil.Process(pid) for pid in worker_pids]),
        "emulator": cpu_seconds([psutil.Process(emulator_pid)]),
        "bench_and_site": cpu_seconds([psutil.Process()]),
        "postgres": cpu_seconds(backends),
    }


def start_workers(count: int, args: argparse.Namespace, workdir: Path) -> list[tuple[subprocess.Popen, Path, Path]]:
    env = {
        **os.environ,
        "LOG_LEVEL": "INFO",
        # Few malloc arenas: dozens of crawl threads otherwise each grow their own.
        "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2"),
        "WORKER_BATCH_CONCURRENCY": str(args.batch_concurrency),
        # One connection per crawl thread, none opened and closed on the fly.
        "DB_POOL_SIZE": str(args.concurrency * args.batch_concurrency),
        "DB_MAX_OVERFLOW": "0",
    }
    workers = []
    for i in range(count):
        metrics, logfile = workdir / f"worker{i}.json", workdir / f"worker{i}.log"
        profile = ["-m", "cProfile", "-o", str(workdir / f"worker{i}.prof")] if args.profile else []
        with open(logfile, "wb") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    *profile,
                    "-m",
                    "ingest_app",
                    "worker",
                    "--concurrency",
                    str(args.concurrency),
                    "--wait-time",
                    "2",
                    "--stale-interval",
                    "0",
                    "--metrics-file",
                    str(metrics),
                ],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        workers.append((proc, metrics, logfile))
    deadline = time.monotonic() + 60
    for proc, _metrics, logfile in workers:
        while b"polling" not in logfile.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start: {logfile.read_text()[-2000:]}")
            time.sleep(0.1)
    return workers


def stop_workers(workers: list[tuple[subprocess.Popen, Path, Path]]) -> None:
    for proc, _, _ in workers:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc, _, _ in workers:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def delete_user(user_id: int) -> None:
    from ingest_app.core.db import session_scope
    from ingest_app.core.models import User

    with session_scope() as session:
        user = session.get(User, user_id)
        if user is not None:
            session.delete(user)


def run_once(args: argparse.Namespace) -> dict:
    from devtools.demo.site import DemoSite, start_demo_server
    from devtools.emulator import start_emulator
    from ingest_app.core.db import session_scope
    from ingest_app.core.models import IngestionRun
    from ingest_app.core.queue import ensure_queues, reset_clients
    from ingest_app.core.settings import reset_settings_cache

    with ExitStack() as stack:
        if not os.environ.get("DATABASE_URL"):
            os.environ["DATABASE_URL"] = stack.enter_context(throwaway_database())
            log("using a throwaway database")
        os.environ.setdefault("JWT_SECRET", secrets.token_urlsafe(48))
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ingest-bench-")))

        emulator = start_emulator(None)
        stack.callback(emulator.stop)
        os.environ.update(
            {
                "SQS_ENDPOINT_URL": emulator.endpoint_url,
                "CRAWL_QUEUE_NAME": f"bench-crawl-{secrets.token_hex(3)}",
                "WORKER_WAIT_TIME_SECONDS": "2",
            }
        )
        os.environ.pop("CRAWL_QUEUE_URL", None)
        reset_settings_cache()
        reset_clients()
        ensure_queues()

        companies = max(1, args.companies)
        per_company = -(-args.jobs // companies)
        site = DemoSite.generate(
            companies=companies,
            jobs_per_company=per_company,
            page_kb=args.page_kb,
            latency=args.latency_ms / 1000,
            kinds=("careers",),
            page_size=50,
        )
        server = start_demo_server(site)
        stack.callback(server.stop)
        os.environ.update(server.settings_env())
        reset_settings_cache()
        urls = [u for slug in site.companies for u in site.listed_urls(slug)]
        log(f"{len(urls)} job pages at {server.base_url}, emulator at {emulator.endpoint_url}")

        ceiling = parse_ceiling(site, urls)
        log(f"parse ceiling {ceiling:.0f} pages/s")

        workers = start_workers(args.workers, args, workdir)
        stack.callback(stop_workers, workers)
        log(f"{len(workers)} worker process(es) polling")

        from ingest_app.accounts.users import create_user
        from ingest_app.core.companies import add_company
        from ingest_app.core.pipeline import run_stage3, start_run

        with session_scope() as session:
            user = create_user(session, email=f"bench-{secrets.token_hex(4)}@example.com", password="bench-pass-1")
            for source in server.company_sources():
                add_company(session, user.id, name=source["name"], source=source["source"])
            user_id = user.id
        stack.callback(delete_user, user_id)  # its companies, runs and jobs go with it

        worker_pids = [p.pid for p, _, _ in workers]
        database = make_url(os.environ["DATABASE_URL"]).database or ""
        with RssSampler(worker_pids) as sampler:
            cpu_before = cpu_snapshot(worker_pids, emulator.pid, database)
            with session_scope() as session:
                run_id = start_run(session, user_id).run_id
            stage3_started = time.monotonic()
            run_stage3(run_id)
            log(f"run {run_id}: stage 3 done in {time.monotonic() - stage3_started:.2f} s, crawling")
            deadline = time.monotonic() + args.timeout
            while True:
                with session_scope() as session:
                    run = session.get(IngestionRun, run_id, populate_existing=True)
                    status, processed = run.status, run.jobs_processed
                if status in ("completed", "failed") or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            cpu_after = cpu_snapshot(worker_pids, emulator.pid, database)
            stop_workers(workers)

        if run.status != "completed":
            raise RuntimeError(f"run {run_id} ended {run.status} after {processed} items: {run.error_message}")
        seconds = (run.completed_at - run.started_at).total_seconds()
        item_seconds: list[float] = []
        metric_peaks: list[float] = []
        batches = received = 0
        sqs_cpu = 0.0
        for _proc, metrics, _log in workers:
            data = json.loads(metrics.read_text())
            item_seconds += data["item_seconds"]
            batches += data["batches"]
            received += data["received"]
            sqs_cpu += data["sqs_cpu_seconds"]
            metric_peaks.append(data["peak_rss_mb"])
        if args.profile:
            import pstats

            for path in sorted(workdir.glob("worker*.prof"))[:1]:
                pstats.Stats(str(path), stream=sys.stderr).sort_stats("tottime").print_stats(30)
        sampled_peak = max(sampler.peaks.values()) / (1024 * 1024)
        jobs_per_second = run.total_jobs_found / seconds
        cpu_ms = {k: round(1000 * (cpu_after[k] - cpu_before[k]) / run.total_jobs_found, 2) for k in cpu_after}
        cpu_total_ms = sum(cpu_ms.values())
        # The workers' receive/delete calls: on AWS the event-source mapping makes them, not the Lambda.
        cpu_ms["workers_event_source"] = round(1000 * sqs_cpu / run.total_jobs_found, 2)
        cpu_ms["workers_handler"] = round(cpu_ms["workers"] - cpu_ms["workers_event_source"], 2)
        return {
            "jobs": run.total_jobs_found,
            "jobs_added": run.jobs_added,
            "jobs_failed": run.jobs_failed,
            "run_seconds": round(seconds, 2),
            "jobs_per_second": round(jobs_per_second, 1),
            "parse_ceiling_per_second": round(ceiling, 1),
            "ratio": round(jobs_per_second / ceiling, 3),
            "p95_item_seconds": round(statistics.quantiles(item_seconds, n=20)[-1], 4),
            "p50_item_seconds": round(statistics.median(item_seconds), 4),
            "worker_peak_rss_mb": round(max(max(metric_peaks), sampled_peak), 1),
            "messages_per_batch": round(received / max(1, batches), 1),
            "cpu_ms_per_job": {**cpu_ms, "total": round(cpu_total_ms, 2)},
            # What the measured CPU cost allows when the machine's cores serve only this run.
            "cpu_bound_jobs_per_second": round(1000 * (os.cpu_count() or 1) / cpu_total_ms, 1),
            "load_average_1m": round(os.getloadavg()[0], 1),
            "workers": args.workers,
            "concurrency": args.concurrency,
            "batch_concurrency": args.batch_concurrency,
            "latency_ms": args.latency_ms,
            "page_kb": args.page_kb,
            "cpus": os.cpu_count(),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=20.0, help="added to every demo-site response")
    parser.add_argument("--page-kb", type=int, default=50)
    parser.add_argument("--companies", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=2, help="batches in flight per worker")
    parser.add_argument("--batch-concurrency", type=int, default=10, help="records crawled at once per batch")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--profile", action="store_true", help="print a CPU profile of the first worker")
    args = parser.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING, format="[bench] %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("ingest_app.core.pipeline.stage3").setLevel(logging.INFO)
    result = run_once(args)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
