"""The pages; importing this package registers every route."""

from ingest_app.pages import companies, company_import, history, jobs, notifications, preview, run, schedule, sign_in

__all__ = ["companies", "company_import", "history", "jobs", "notifications", "preview", "run", "schedule", "sign_in"]
