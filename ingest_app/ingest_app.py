"""The Reflex app: pages plus the REST API mounted on the same backend."""

import reflex as rx

from ingest_app.api.main import api
from ingest_app.pages import sign_in  # noqa: F401  (registers the pages)

app = rx.App(api_transformer=api, theme=rx.theme(accent_color="indigo", radius="medium"))
