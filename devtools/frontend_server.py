"""The frontend server of `make run`: the exported (static) frontend on 127.0.0.1.

While the production build runs it answers every path with a "Building the app" page that opens
the app by itself once the build is there; then it serves the files of the build the way a static
host (S3 + CloudFront, see docs/DEPLOY.md) does: `/companies` is `companies.html`, assets are
immutable, unknown paths get the build's `404.html` with status 404.
"""

from __future__ import annotations

import html
import os
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

BUILDING_HEADER = "X-App-Building"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Job ingestion</title>
<style>
  body {{ font-family: system-ui, sans-serif; background: #f9f9fb; color: #1c2024; margin: 0; }}
  main {{ max-width: 36rem; margin: 12vh auto; padding: 0 1rem; line-height: 1.5; }}
  h1 {{ font-size: 1.5rem; }}
  .muted {{ color: #60646c; }}
</style>
</head>
<body>
<main>
<h1>{title}</h1>
<p role="status" aria-live="polite">{message}</p>
<p class="muted">{detail}</p>
</main>
{script}
</body>
</html>
"""

# Polls with fetch (not a meta refresh) so a moment without an answer never strands the user on an
# error page; reloads as soon as the answer is the app itself.
_RELOAD_WHEN_READY = f"""<script>
setInterval(function () {{
  fetch(location.href, {{ cache: "no-store" }})
    .then(function (r) {{ if (!r.headers.get("{BUILDING_HEADER}")) location.reload(); }})
    .catch(function () {{}});
}}, 1500);
</script>"""


class FrontendServer:
    """A threaded HTTP server in this process: `building` -> `ready` (or `failed`)."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 3000):
        self.root = Path(root)
        self.state = "building"
        self.message = "Building the app…"
        handler = partial(_Handler, directory=str(self.root))
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.httpd.frontend = self  # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="frontend", daemon=True)

    def start(self) -> FrontendServer:
        self._thread.start()
        return self

    def ready(self) -> None:
        self.state = "ready"

    def failed(self, message: str) -> None:
        self.message = message
        self.state = "failed"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(SimpleHTTPRequestHandler):
    server_version = "ingest-app-frontend"

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        if self._serve_build():
            super().do_GET()

    def do_HEAD(self) -> None:  # noqa: N802
        if self._serve_build():
            super().do_HEAD()

    def _serve_build(self) -> bool:
        """True when the build is ready and `self.path` now names one of its files."""
        frontend: FrontendServer = self.server.frontend  # type: ignore[attr-defined]
        if frontend.state != "ready":
            self._send_notice(frontend)
            return False
        parts = urlsplit(self.path)
        target = self._resolve(parts.path)
        if target is None:
            self._send_not_found()
            return False
        self.path = target + (f"?{parts.query}" if parts.query else "")
        return True

    def _resolve(self, url_path: str) -> str | None:
        """The URL path of the file that answers `url_path` (translate_path drops `..`)."""
        base = self.translate_path(url_path.rstrip("/") or "/")
        root = os.path.realpath(self.directory)
        for candidate in (base, base + ".html", os.path.join(base, "index.html")):
            real = os.path.realpath(candidate)
            if os.path.isfile(real) and (real == root or real.startswith(root + os.sep)):
                return "/" + os.path.relpath(real, root).replace(os.sep, "/")
        return None

    def _send_not_found(self) -> None:
        page = Path(self.directory) / "404.html"
        body = page.read_bytes() if page.is_file() else b"Not found"
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_notice(self, frontend: FrontendServer) -> None:
        if frontend.state == "failed":
            status, title = 500, "The app could not be built"
            detail = "The terminal running <code>make run</code> shows why. Fix it and start again."
            script = ""
        else:
            status, title = 503, "Building the app…"
            detail = (
                "The first start installs the JavaScript packages and can take a few minutes; later "
                "starts take about half a minute. This page opens the app by itself when it is ready."
            )
            script = _RELOAD_WHEN_READY
        body = _PAGE.format(title=title, message=html.escape(frontend.message), detail=detail, script=script)
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Retry-After", "2")
        self.send_header(BUILDING_HEADER, frontend.state)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def end_headers(self) -> None:
        if self.path.startswith("/assets/"):
            self.send_header("Cache-Control", "public, max-age=31536000, immutable")
        elif self.path.endswith(".html"):
            self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server signature)
        pass
