import os

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

_backend_port = os.environ.get("BACKEND_PORT", "8000")
_frontend_port = os.environ.get("FRONTEND_PORT", "3000")
# The browser origins allowed to call the backend with credentials (REST API and websocket):
# FRONTEND_ORIGIN (comma-separated), by default the local frontend. Any other Origin gets no CORS
# grant; it is never reflected.
FRONTEND_ORIGINS = [
    origin.strip().rstrip("/")
    for origin in os.environ.get(
        "FRONTEND_ORIGIN", f"http://localhost:{_frontend_port},http://127.0.0.1:{_frontend_port}"
    ).split(",")
    if origin.strip()
]

config = rx.Config(
    app_name="ingest_app",
    frontend_port=int(_frontend_port),
    backend_port=int(_backend_port),
    api_url=os.environ.get("API_URL", f"http://localhost:{_backend_port}"),
    cors_allowed_origins=FRONTEND_ORIGINS,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    disable_plugins=[SitemapPlugin],
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
)
