"""Hostile pages and sockets against the crawler: how long each case holds a thread, and memory.

    python bench/hostile_bench.py [--code DIR] [--limit SECONDS] [--case NAME ...]

Each case runs in its own child process (so a case that never ends is stopped at `--limit`
seconds and reported as `"timed_out": true`), against local servers on 127.0.0.1 only. `--code`
runs the cases against another checkout of the project (e.g. an older commit unpacked with
`git archive`), to compare before and after. Prints one JSON object: case -> {seconds, ...}.

Cases:
- next_text_40k / next_text_1m: a careers page whose one link text is "next" + spaces + "x"
  (40 KB and the 1 MiB page cap).
- host_28: a URL whose host is 28 letters and a "!".
- punycode_400k: a 400 KB page declaring `charset=punycode`.
- noise_attr: 1,000 job links under an element with a 1 MB class attribute.
- trickle_headers: a server that sends one header byte every 0.2 s (read timeout 1 s, total 3 s).
- json_objects_16m: a 16 MiB JSON listing of empty objects (peak RSS of the child).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE_CAP = 1024 * 1024
CASES = (
    "next_text_40k",
    "next_text_1m",
    "host_28",
    "punycode_400k",
    "noise_attr",
    "trickle_headers",
    "json_objects_16m",
)


def _env() -> None:
    os.environ.update(
        {
            "CRAWLER_ALLOW_PRIVATE_HOSTS": "1",
            "CRAWLER_MAX_BYTES": str(PAGE_CAP),
            "CRAWLER_READ_TIMEOUT": "1",
            "CRAWLER_TOTAL_TIMEOUT": "3",
            "CRAWLER_MAX_RETRIES": "0",
            "APP_ENV": "test",
            "JWT_SECRET": "x" * 40,
        }
    )


class _Pages(ThreadingHTTPServer):
    daemon_threads = True
    pages: dict[str, tuple[bytes, str]]


class _Handler(BaseHTTPRequestHandler):
    server: _Pages

    def do_GET(self) -> None:  # noqa: N802
        body, kind = self.server.pages.get(self.path.split("?")[0], (b"not found", "text/plain"))
        self.send_response(200 if self.path.split("?")[0] in self.server.pages else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def _serve(pages: dict[str, tuple[bytes, str]]) -> str:
    server = _Pages(("127.0.0.1", 0), _Handler)
    server.pages = pages
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def _trickle_server() -> str:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve() -> None:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=trickle, args=(conn,), daemon=True).start()

    def trickle(conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Slow: 1\r\n" * 10_000:
                time.sleep(0.2)
                conn.sendall(bytes([byte]))
        except OSError:
            pass

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}"


def _careers(base_page: bytes) -> str:
    base = _serve({"/careers/": (base_page, "text/html; charset=utf-8"), "/robots.txt": (b"", "text/plain")})
    return f"careers:{base}/careers/"


def run_case(name: str) -> dict:
    """Runs in the child process."""
    _env()
    sys.path.insert(0, os.environ.get("BENCH_CODE", str(ROOT)))
    from ingest_app.core.crawl import CrawlError, canonicalize_url, list_company_jobs
    from ingest_app.core.crawl.http import decode_body, fetch

    out: dict = {}
    if name.startswith("next_text"):
        size = 40_000 if name.endswith("40k") else PAGE_CAP - 200
        page = f'<main><a href="/careers/?page=2">next{" " * size}x</a></main>'.encode()
        source = _careers(page)
        started = time.perf_counter()
        out["listed"] = len(list_company_jobs(source))
    elif name == "host_28":
        started = time.perf_counter()
        try:
            canonicalize_url("https://" + "a" * 28 + "!/jobs")
        except CrawlError as err:
            out["error"] = err.kind
    elif name == "punycode_400k":
        body = b"-" + b"ba" * 200_000  # all deltas: the codec inserts each into a list (quadratic)
        started = time.perf_counter()
        out["chars"] = len(decode_body(body, "text/html; charset=punycode"))
    elif name == "noise_attr":
        links = "".join(f'<li><a href="/careers/role-{i}">Engineer {i}</a></li>' for i in range(1000))
        page = f'<main><div class="{"x" * (PAGE_CAP - len(links) - 200)}"><ul>{links}</ul></div></main>'
        source = _careers(page.encode())
        started = time.perf_counter()
        out["listed"] = len(list_company_jobs(source))
    elif name == "trickle_headers":
        url = _trickle_server() + "/careers"
        started = time.perf_counter()
        try:
            fetch(url)
        except CrawlError as err:
            out["error"] = err.kind
    elif name == "json_objects_16m":
        body = b"[" + b"{}," * (16 * 1024 * 1024 // 3) + b"{}]"
        url = _serve({"/board.json": (body, "application/json")}) + "/board.json"
        from ingest_app.core.crawl.http import fetch_json

        started = time.perf_counter()
        try:
            out["items"] = len(fetch_json(url))
        except CrawlError as err:
            out["error"] = err.kind
    else:
        raise SystemExit(f"unknown case {name}")
    out["seconds"] = round(time.perf_counter() - started, 3)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", default=str(ROOT), help="the checkout whose crawler is measured")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds before a case is stopped")
    parser.add_argument("--case", action="append", choices=CASES)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_case(args.child)))
        return
    results: dict = {"code": args.code}
    for name in args.case or CASES:
        env = {**os.environ, "BENCH_CODE": str(Path(args.code).resolve())}
        started = time.perf_counter()
        try:
            child = subprocess.run(
                [sys.executable, __file__, "--child", name],
                capture_output=True,
                text=True,
                timeout=args.limit,
                env=env,
                cwd=str(Path(args.code).resolve()),
            )
            lines = child.stdout.strip().splitlines()
            results[name] = (
                json.loads(lines[-1]) if child.returncode == 0 and lines else {"failed": child.stderr[-300:]}
            )
        except subprocess.TimeoutExpired:
            results[name] = {"timed_out": True, "seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
