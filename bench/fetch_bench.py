"""CPU the crawler's client spends per page: `http.fetch` of ~50 KB job pages over loopback.

    python bench/fetch_bench.py [--pages 400] [--rounds 5] [--threads 1 10]

The demo site runs in a child process, so this process's CPU time is the client's alone (the
address guard, the per-host budget, the deadline, reading the body). For each thread count the
pages are fetched `--rounds` times; the round with the least CPU per page is reported (the figure
least disturbed by other work on a shared machine), with the median. Prints one JSON line:
{"fetch": {"1": {"best_cpu_ms": ..., "median_cpu_ms": ...}, "10": {...}}, "extract_job": {...}}
where `extract_job` is the whole per-job crawl (fetch, decode, extract, normalize).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_SERVE = """
import sys, time
sys.path.insert(0, {root!r})
from devtools.demo.site import DemoSite, start_demo_server
site = DemoSite.generate(companies=1, jobs_per_company={pages}, page_kb=50, latency=0, kinds=("careers",))
server = start_demo_server(site)
print(" ".join(site.listed_urls(next(iter(site.companies)))), flush=True)
time.sleep(3600)
"""


def _rounds(work, urls: list[str], threads: int, rounds: int) -> dict[str, float]:
    per_page = []
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, urls[:20]))  # connections and caches warm
        for _ in range(rounds):
            started = time.process_time()
            list(pool.map(work, urls))
            per_page.append(1000 * (time.process_time() - started) / len(urls))
    return {"best_cpu_ms": round(min(per_page), 3), "median_cpu_ms": round(statistics.median(per_page), 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 10])
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVE.format(root=str(ROOT), pages=args.pages)], stdout=subprocess.PIPE, text=True
    )
    try:
        urls = server.stdout.readline().split()
        if not urls:
            raise SystemExit("the demo site did not start")
        os.environ["CRAWLER_ALLOW_PRIVATE_HOSTS"] = "1"
        os.environ.setdefault("JWT_SECRET", "fetch-bench-" + "x" * 40)
        from ingest_app.core.crawl import extract_job
        from ingest_app.core.crawl.http import fetch
        from ingest_app.core.settings import reset_settings_cache

        reset_settings_cache()
        result = {
            name: {str(n): _rounds(work, urls, n, args.rounds) for n in args.threads}
            for name, work in (("fetch", lambda url: fetch(url)), ("extract_job", lambda url: extract_job(url, {})))
        }
        result["pages"] = len(urls)
        print(json.dumps(result))
    finally:
        server.kill()
        server.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
