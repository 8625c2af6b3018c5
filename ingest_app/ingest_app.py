"""The Reflex app: the pages plus the REST API mounted on the same backend."""

import reflex as rx

import ingest_app.pages  # noqa: F401  (registers the pages)
from ingest_app.api.main import api

# The theme is configured in rxconfig.py (RadixThemesPlugin).
app = rx.App(api_transformer=api, stylesheets=["/styles.css"])
