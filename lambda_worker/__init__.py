"""AWS Lambda handlers. Importing the package resolves the database URL first: a deployed function
gets it from Secrets Manager or SSM (`DATABASE_URL_SECRET_ARN` / `DATABASE_URL_SSM_PARAMETER`),
once per cold start, before any settings are read. A set `DATABASE_URL` makes this a no-op."""

from ingest_app.core.aws_secrets import resolve_database_url

resolve_database_url()
