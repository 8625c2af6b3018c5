"""The pages; importing this package registers every route."""

from ingest_app.pages import companies, history, jobs, notifications, preview, run, schedule, sign_in

__all__ = ["companies", "history", "jobs", "notifications", "preview", "run", "schedule", "sign_in"]
