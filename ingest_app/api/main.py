"""The REST API, mounted on the Reflex backend under /api."""

from __future__ import annotations

from fastapi import FastAPI

from ingest_app.api import errors
from ingest_app.api.routes import auth, companies, ingest

api = FastAPI(
    title="Job ingestion API",
    summary="Companies, ingestion runs and their progress; JWT bearer auth.",
    version="1.0.0",
    openapi_url="/api/openapi.json",
    docs_url="/api/docs",
    redoc_url=None,
)
errors.install(api)
api.include_router(auth.router)
api.include_router(companies.router)
api.include_router(ingest.router)
