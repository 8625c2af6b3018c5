"""ingestion_run_items.state 'skipped' (a page that is not a job posting) and ingestion_runs.jobs_skipped

Revision ID: 0005_item_skipped
Revises: 0004_tracking
Create Date: 2026-12-01 23:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_item_skipped"
down_revision: str | None = "0004_tracking"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATES_BEFORE = "state IN ('pending','succeeded','failed')"
_STATES_AFTER = "state IN ('pending','succeeded','failed','skipped')"
_COUNTERS_BEFORE = (
    "total_jobs_found >= 0 AND jobs_processed >= 0 AND jobs_added >= 0 "
    "AND jobs_failed >= 0 AND jobs_archived >= 0 AND retry_count >= 0"
)
_COUNTERS_AFTER = (
    "total_jobs_found >= 0 AND jobs_processed >= 0 AND jobs_added >= 0 "
    "AND jobs_failed >= 0 AND jobs_skipped >= 0 AND jobs_archived >= 0 AND retry_count >= 0"
)


def upgrade() -> None:
    with op.batch_alter_table("ingestion_runs") as batch:
        batch.add_column(sa.Column("jobs_skipped", sa.Integer(), server_default="0", nullable=False))
        batch.drop_constraint("ck_ingestion_runs_counters_non_negative", type_="check")
        batch.create_check_constraint("ck_ingestion_runs_counters_non_negative", _COUNTERS_AFTER)
    with op.batch_alter_table("ingestion_run_items") as batch:
        batch.drop_constraint("ck_ingestion_run_items_state", type_="check")
        batch.create_check_constraint("ck_ingestion_run_items_state", _STATES_AFTER)


def downgrade() -> None:
    # The older schema has no such state: a skipped item goes back to what it was before, a failed
    # item with its error, and counted as one (jobs_processed = succeeded + failed again).
    op.execute("UPDATE ingestion_run_items SET state = 'failed' WHERE state = 'skipped'")
    op.execute("UPDATE ingestion_runs SET jobs_failed = jobs_failed + jobs_skipped WHERE jobs_skipped > 0")
    with op.batch_alter_table("ingestion_run_items") as batch:
        batch.drop_constraint("ck_ingestion_run_items_state", type_="check")
        batch.create_check_constraint("ck_ingestion_run_items_state", _STATES_BEFORE)
    with op.batch_alter_table("ingestion_runs") as batch:
        batch.drop_constraint("ck_ingestion_runs_counters_non_negative", type_="check")
        batch.create_check_constraint("ck_ingestion_runs_counters_non_negative", _COUNTERS_BEFORE)
        batch.drop_column("jobs_skipped")
