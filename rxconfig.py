import os

import reflex as rx
from reflex.plugins.base import Plugin
from reflex.plugins.sitemap import SitemapPlugin

# Ports and the backend URL come from the environment only when set: a port fixed here would
# break `reflex run --backend-only` ("Cannot specify --frontend-port when not running frontend")
# and `reflex run --env prod` (one port for both). Reflex's own defaults apply otherwise
# (dev: frontend 3000, backend 8000; prod: both on 3000; api_url follows the backend port).
_ENV_SETTINGS = {"frontend_port": "FRONTEND_PORT", "backend_port": "BACKEND_PORT", "api_url": "API_URL"}
_from_env = {key: os.environ[var] for key, var in _ENV_SETTINGS.items() if os.environ.get(var, "").strip()}
for _key in ("frontend_port", "backend_port"):
    if _key in _from_env:
        _from_env[_key] = int(_from_env[_key])

_VITE_LOOPBACK = """
// The development server listens on loopback only (`react-router dev --host` means every interface).
function loopbackOnly() {
  return {
    name: "ingest-app-loopback-only",
    config() {
      return { server: { host: "127.0.0.1" } };
    },
  };
}

"""


class LoopbackDevServer(Plugin):
    """Binds the Vite development server (`reflex run`) to 127.0.0.1 instead of all interfaces."""

    def pre_compile(self, **context) -> None:
        context["add_modify_task"]("vite.config.js", _bind_loopback)


def _bind_loopback(source: str) -> str:
    if "loopbackOnly()" in source:
        return source
    anchors = ("export default defineConfig(", "  plugins: [\n")
    if not all(anchor in source for anchor in anchors):
        raise RuntimeError("vite.config.js changed shape: cannot bind the dev server to loopback")
    source = source.replace(anchors[0], _VITE_LOOPBACK + anchors[0], 1)
    return source.replace(anchors[1], anchors[1] + "    loopbackOnly(),\n", 1)


# The browser origins allowed to call the backend with credentials (REST API and websocket):
# FRONTEND_ORIGIN (comma-separated), by default the local frontend. Any other Origin gets no CORS
# grant; it is never reflected.
_frontend_port = os.environ.get("FRONTEND_PORT", "").strip() or "3000"
FRONTEND_ORIGINS = [
    origin.strip().rstrip("/")
    for origin in os.environ.get(
        "FRONTEND_ORIGIN", f"http://localhost:{_frontend_port},http://127.0.0.1:{_frontend_port}"
    ).split(",")
    if origin.strip()
]

config = rx.Config(
    app_name="ingest_app",
    **_from_env,
    cors_allowed_origins=FRONTEND_ORIGINS,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    disable_plugins=[SitemapPlugin],
    plugins=[
        rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium")),
        LoopbackDevServer(),
    ],
)
