"""The REST API, mounted on the Reflex backend under /api."""

from __future__ import annotations

from fastapi import FastAPI

api = FastAPI(title="Job ingestion API", openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None)
