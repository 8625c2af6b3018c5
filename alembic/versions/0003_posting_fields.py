"""posting fields: salary period, source updated time

Revision ID: 0003_posting_fields
Revises: 0013
Create Date: 2026-12-01 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003_posting_fields'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('jobs', sa.Column('salary_period', sa.String(length=10), nullable=True))
    op.add_column('jobs', sa.Column('source_updated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.drop_column('source_updated_at')
        batch.drop_column('salary_period')
