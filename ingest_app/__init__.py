"""Job ingestion: keep a user\x27s job database in line with what their companies list."""
