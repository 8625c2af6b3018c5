"""The pages; importing this package registers every route."""

from ingest_app.pages import companies, history, jobs, preview, run, sign_in

__all__ = ["companies", "history", "jobs", "preview", "run", "sign_in"]
