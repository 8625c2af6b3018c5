import os

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

_backend_port = os.environ.get("BACKEND_PORT", "8000")

config = rx.Config(
    app_name="ingest_app",
    frontend_port=int(os.environ.get("FRONTEND_PORT", "3000")),
    backend_port=int(_backend_port),
    api_url=os.environ.get("API_URL", f"http://localhost:{_backend_port}"),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    disable_plugins=[SitemapPlugin],
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
)
