"""The REST API, mounted on the Reflex backend under /api."""

from __future__ import annotations

from fastapi import FastAPI

from ingest_app.api import errors
from ingest_app.api.middleware import BodySizeLimit, SecurityHeaders
from ingest_app.api.routes import auth, changes, companies, feeds, ingest, notifications, schedule

DESCRIPTION = """
Sign in with `POST /api/auth/token` (an OAuth2 password form with `username`=email, or JSON
`{"email", "password"}`) and send the token as `Authorization: Bearer <token>` on every other call.

Errors are JSON `{"detail": ...}`: 401 for a missing or bad token, 404 for a run or company that is
not yours, 409 for a conflict (duplicate, run already active, run already finished), 422 for invalid
input, 413 for a request body over the size cap, 429 with `Retry-After` when sign-in or registration is
rate limited, 503 when the database is unavailable.
"""

api = FastAPI(
    title="Job ingestion API",
    summary="Companies, ingestion runs and their progress; JWT bearer auth.",
    description=DESCRIPTION,
    version="1.0.0",
    openapi_url="/api/openapi.json",
    docs_url="/api/docs",
    swagger_ui_oauth2_redirect_url="/api/docs/oauth2-redirect",
    redoc_url=None,
)
errors.install(api)
# Added last = outermost: the body cap runs before anything reads the body.
api.add_middleware(SecurityHeaders)
api.add_middleware(BodySizeLimit)
api.include_router(auth.router)
api.include_router(companies.router)
api.include_router(ingest.router)
api.include_router(changes.router)
api.include_router(schedule.router)
api.include_router(notifications.router)
api.include_router(feeds.router)
