"""fleet: stage 3 listings recorded per company, the fleet-wide per-host budget

Revision ID: 0008_fleet
Revises: 0007_incremental
Create Date: 2026-12-01 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008_fleet"
down_revision: str | None = "0007_incremental"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "run_listings",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("company_index", sa.Integer(), nullable=False),
        sa.Column("jobs", JSON, nullable=False),
        sa.Column("error_kind", sa.String(length=40), nullable=True),
        sa.Column("error_reason", sa.Text(), nullable=True),
        sa.Column("incomplete", sa.Text(), nullable=True),
        sa.Column("extra", JSON, nullable=True),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["ingestion_runs.run_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "company_index"),
    )
    op.create_table(
        "host_leases",
        sa.Column("host", sa.String(length=300), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("host", "slot"),
    )
    op.create_table(
        "host_pauses",
        sa.Column("host", sa.String(length=300), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("host"),
    )


def downgrade() -> None:
    op.drop_table("host_pauses")
    op.drop_table("host_leases")
    op.drop_table("run_listings")
