"""companies.source_kind accepts the ten new ATS families

Revision ID: 0013
Revises: 0002_token_version
Create Date: 2026-12-01 19:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0002_token_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ("greenhouse", "lever", "ashby", "careers")
NEW = (
    "greenhouse",
    "lever",
    "ashby",
    "workday",
    "smartrecruiters",
    "workable",
    "recruitee",
    "personio",
    "teamtailor",
    "bamboohr",
    "pinpoint",
    "rippling",
    "breezy",
    "careers",
)


def _check(kinds: tuple[str, ...]) -> str:
    return "source_kind IN (" + ",".join(f"'{kind}'" for kind in kinds) + ")"


def _replace(kinds: tuple[str, ...]) -> None:
    # batch mode rebuilds the table on SQLite (which cannot alter a CHECK) and alters in place elsewhere
    with op.batch_alter_table("companies") as batch:
        batch.drop_constraint("ck_companies_source_kind", type_="check")
        batch.create_check_constraint("ck_companies_source_kind", _check(kinds))


def upgrade() -> None:
    _replace(NEW)


def downgrade() -> None:
    op.execute("DELETE FROM companies WHERE " + " AND ".join(f"source_kind <> '{k}'" for k in OLD))
    _replace(OLD)
