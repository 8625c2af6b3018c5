"""incremental crawling: postings carried by listings, HTTP validators per user and URL

Revision ID: 0007_incremental
Revises: 0006_company_health
Create Date: 2026-12-01 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0007_incremental'
down_revision: str | None = '0006_company_health'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.add_column('ingestion_run_items', sa.Column('posting', JSON, nullable=True))
    op.create_table(
        'http_validators',
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'), nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('etag', sa.String(length=200), nullable=True),
        sa.Column('last_modified', sa.String(length=200), nullable=True),
        sa.Column('listing', JSON, nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('user_id', 'url'),
    )


def downgrade() -> None:
    op.drop_table('http_validators')
    with op.batch_alter_table('ingestion_run_items') as batch:
        batch.drop_column('posting')
