"""Database outage benchmark: how much a PostgreSQL outage delays a run through the real local
queue and a worker process, with production queue settings (visibility timeout 1800 s).

    python bench/outage_bench.py [--items 400] [--page-seconds 0.5] [--outage 30] [--outage-at 5]

Starts on 127.0.0.1 and stops afterwards: the SQS emulator, a job site whose pages answer after
`--page-seconds`, a TCP proxy in front of PostgreSQL (the outage: the proxy refuses connections
and resets the open ones; the shared server is never stopped) and one `python -m ingest_app
worker` whose DATABASE_URL goes through the proxy. Uses a throwaway database on the local
PostgreSQL (`BENCH_ADMIN_DATABASE_URL`, default postgresql://postgres@127.0.0.1:5432/postgres).

The same run is done twice, without and with the outage. Prints one JSON line:
  baseline_seconds     messages sent .. run completed, no outage
  outage_run_seconds   the same with `--outage` seconds of outage starting `--outage-at` s in
  delay_seconds        outage_run_seconds - baseline_seconds (the target: at most ~120 s for 30 s)
  beyond_outage        delay_seconds - outage (time lost on top of the outage itself)
  received, db_pauses, paused_seconds   the worker's counters in the outage run
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingest_bench import log, throwaway_database  # noqa: E402


def one_run(args: argparse.Namespace, *, outage: float, workdir: Path) -> dict:
    from ingest_app.accounts.users import create_user
    from ingest_app.core.db import get_engine, session_scope
    from ingest_app.core.queue import send_messages
    from tests.support.pages import PageServer
    from tests.support.runs import counters, item_bodies, run_row, seed_run
    from tests.support.tcp_proxy import database_proxy
    from tests.support.worker import read_metrics, start_worker, stop_worker

    engine = get_engine()
    with ExitStack() as stack:
        pages = PageServer()
        stack.callback(pages.stop)
        proxy = stack.enter_context(database_proxy(os.environ["DATABASE_URL"]))
        with session_scope() as session:
            user = create_user(
                session, email=f"bench-{secrets.token_hex(4)}@example.com", password=secrets.token_urlsafe(16)
            )
            session.commit()
            urls = [pages.slow_url(n, seconds=args.page_seconds) for n in range(args.items)]
            run_id, _ = seed_run(session, user.id, urls)
            bodies = item_bodies(session, run_id)
        metrics = workdir / f"metrics-{run_id}.json"
        worker = start_worker(
            env={"DATABASE_URL": proxy.url(os.environ["DATABASE_URL"]), "WORKER_WAIT_TIME_SECONDS": "2"},
            concurrency=args.concurrency,
            wait_time=2,
            metrics_file=metrics,
            log_path=workdir / f"worker-{run_id}.log",
        )
        try:
            started = time.monotonic()
            send_messages(bodies)
            if outage:
                time.sleep(args.outage_at)
                log(f"outage for {outage:g} s at {counters(engine, run_id)['jobs_processed']} of {args.items} items")
                proxy.close()
                time.sleep(outage)
                proxy.open()
                log(f"database back at {counters(engine, run_id)['jobs_processed']} items")
            deadline = started + args.give_up
            while counters(engine, run_id)["status"] != "completed":
                if time.monotonic() > deadline:
                    raise SystemExit(f"run {run_id} did not complete in {args.give_up:g} s: {counters(engine, run_id)}")
                time.sleep(0.1)
            seconds = time.monotonic() - started
        finally:
            stop_worker(worker)
        stats = read_metrics(metrics)
        row = run_row(engine, run_id)._mapping
        assert (row["jobs_processed"], row["jobs_added"]) == (args.items, args.items), row
    return {
        "seconds": round(seconds, 1),
        "received": stats["received"],
        "db_pauses": stats.get("db_pauses"),
        "paused_seconds": stats.get("paused_seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--page-seconds", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=2, help="batches in flight in the worker")
    parser.add_argument("--outage", type=float, default=30.0)
    parser.add_argument("--outage-at", type=float, default=5.0)
    parser.add_argument("--give-up", type=float, default=1800.0)
    args = parser.parse_args(argv)

    from devtools.emulator import start_emulator
    from ingest_app.core.queue import VISIBILITY_TIMEOUT, ensure_queues, reset_clients
    from ingest_app.core.settings import reset_settings_cache

    with ExitStack() as stack:
        os.environ["DATABASE_URL"] = stack.enter_context(throwaway_database())
        os.environ.setdefault("JWT_SECRET", secrets.token_urlsafe(48))
        os.environ["CRAWLER_ALLOW_PRIVATE_HOSTS"] = "1"
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="outage-bench-")))
        emulator = start_emulator(None)
        stack.callback(emulator.stop)
        os.environ.update({"SQS_ENDPOINT_URL": emulator.endpoint_url, "CRAWL_QUEUE_NAME": "outage-bench"})
        os.environ.pop("CRAWL_QUEUE_URL", None)
        reset_settings_cache()
        reset_clients()
        ensure_queues(visibility_timeout=VISIBILITY_TIMEOUT)
        baseline = one_run(args, outage=0, workdir=workdir)
        log(f"baseline: {baseline}")
        with_outage = one_run(args, outage=args.outage, workdir=workdir)
        log(f"with outage: {with_outage}")
    delay = with_outage["seconds"] - baseline["seconds"]
    result = {
        "items": args.items,
        "outage": args.outage,
        "visibility_timeout": VISIBILITY_TIMEOUT,
        "baseline_seconds": baseline["seconds"],
        "outage_run_seconds": with_outage["seconds"],
        "delay_seconds": round(delay, 1),
        "beyond_outage": round(delay - args.outage, 1),
        "received": with_outage["received"],
        "db_pauses": with_outage["db_pauses"],
        "paused_seconds": with_outage["paused_seconds"],
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
