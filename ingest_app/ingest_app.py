"""The Reflex app: the pages plus the REST API mounted on the same backend."""

import reflex as rx

import ingest_app.pages  # noqa: F401  (registers the pages)
from ingest_app.api.main import api
from ingest_app.states.auth import SessionBinding
from ingest_app.states.storage import make_state_storage_private

make_state_storage_private()

# The theme is configured in rxconfig.py (RadixThemesPlugin).
app = rx.App(api_transformer=api, stylesheets=["/styles.css"])
# Before every event: a socket gets the user's data only with the user's session cookie.
app.add_middleware(SessionBinding())
