"""company health: per-company listing outcomes kept across runs

Revision ID: 0006_company_health
Revises: 0004_tracking
Create Date: 2026-12-01 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_company_health"
down_revision: str | None = "0004_tracking"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "company_health",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=2100), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("jobs_now", sa.Integer(), nullable=True),
        sa.Column("jobs_before", sa.Integer(), nullable=True),
        sa.Column("zero_streak", sa.Integer(), server_default="0", nullable=False),
        sa.Column("suspect", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("needs_move_check", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("move_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "moved",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("company_id"),
    )


def downgrade() -> None:
    op.drop_table("company_health")
