"""The schema on PostgreSQL: column types, uniqueness rules, the one-active-run rule, migrations."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from ingest_app.core.models import Company, IngestionRun, IngestionRunItem, Job


def _columns(engine, table):
    return {c["name"]: c for c in sa.inspect(engine).get_columns(table)}


def test_ingestion_runs_columns_have_the_specified_types(engine):
    cols = _columns(engine, "ingestion_runs")
    expected = {
        "run_id": "integer",
        "user_id": "integer",
        "status": "character varying",
        "current_stage": "integer",
        "total_jobs_found": "integer",
        "jobs_processed": "integer",
        "jobs_added": "integer",
        "jobs_failed": "integer",
        "jobs_skipped": "integer",
        "jobs_archived": "integer",
        "companies": "jsonb",
        "created_at": "timestamp with time zone",
        "started_at": "timestamp with time zone",
        "completed_at": "timestamp with time zone",
        "last_heartbeat": "timestamp with time zone",
        "retry_count": "integer",
        "error_message": "text",
    }
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'ingestion_runs'")
        ).all()
    assert dict(rows) == expected
    assert cols["run_id"]["autoincrement"] is True
    pk = sa.inspect(engine).get_pk_constraint("ingestion_runs")
    assert pk["constrained_columns"] == ["run_id"]
    indexes = {ix["name"]: ix for ix in sa.inspect(engine).get_indexes("ingestion_runs")}
    assert indexes["ix_ingestion_runs_user_id"]["column_names"] == ["user_id"]
    fks = sa.inspect(engine).get_foreign_keys("ingestion_runs")
    assert [(fk["constrained_columns"], fk["referred_table"]) for fk in fks] == [(["user_id"], "users")]


def test_autogenerate_finds_no_difference_between_models_and_migrations(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, SQLModel.metadata) == []


def test_migrations_also_build_the_schema_on_sqlite(tmp_path):
    from ingest_app.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    upgrade(url)
    sqlite = sa.create_engine(url)
    try:
        tables = set(sa.inspect(sqlite).get_table_names())
        assert {"users", "companies", "jobs", "ingestion_runs", "ingestion_run_items"} <= tables
        with sqlite.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, SQLModel.metadata) == []
    finally:
        sqlite.dispose()


def test_second_active_run_for_a_user_is_rejected(session, make_user):
    user = make_user()
    session.add(IngestionRun(user_id=user.id, status="archiving"))
    session.commit()
    session.add(IngestionRun(user_id=user.id, status="ingesting"))
    with pytest.raises(IntegrityError, match="uq_ingestion_runs_one_active_per_user"):
        session.commit()
    session.rollback()


def test_finished_runs_do_not_count_as_active(session, make_user):
    user, other = make_user(), make_user()
    session.add_all(
        [
            IngestionRun(user_id=user.id, status="completed", current_stage=5),
            IngestionRun(user_id=user.id, status="failed", current_stage=5),
            IngestionRun(user_id=user.id, status="ingesting", current_stage=4),
            IngestionRun(user_id=other.id, status="archiving"),
        ]
    )
    session.commit()
    assert session.exec(sa.select(sa.func.count()).select_from(IngestionRun)).one()[0] == 4


def test_run_items_are_unique_per_run_and_url(session, make_user):
    user = make_user()
    run = IngestionRun(user_id=user.id, status="ingesting", current_stage=4)
    session.add(run)
    session.commit()
    session.add(IngestionRunItem(run_id=run.run_id, company="Acme", url="https://acme.test/jobs/1"))
    session.commit()
    session.add(IngestionRunItem(run_id=run.run_id, company="Acme", url="https://acme.test/jobs/1"))
    with pytest.raises(IntegrityError, match="uq_ingestion_run_items_run_url"):
        session.commit()
    session.rollback()


def test_jobs_are_unique_per_user_and_source_url(session, make_user):
    user, other = make_user(), make_user()
    url = "https://acme.test/jobs/1"
    session.add_all(
        [Job(user_id=user.id, company="Acme", source_url=url), Job(user_id=other.id, company="Acme", source_url=url)]
    )
    session.commit()
    session.add(Job(user_id=user.id, company="Acme", source_url=url))
    with pytest.raises(IntegrityError, match="uq_jobs_user_source_url"):
        session.commit()
    session.rollback()


def test_company_sources_are_unique_per_user(session, make_user):
    user = make_user()
    session.add(Company(user_id=user.id, name="Acme", source_kind="greenhouse", source_value="acme"))
    session.commit()
    session.add(Company(user_id=user.id, name="Acme again", source_kind="greenhouse", source_value="acme"))
    with pytest.raises(IntegrityError, match="uq_companies_user_source"):
        session.commit()
    session.rollback()


@pytest.mark.parametrize(
    "column", ["total_jobs_found", "jobs_processed", "jobs_added", "jobs_failed", "jobs_skipped", "jobs_archived"]
)
def test_counters_can_never_go_negative(session, make_user, column):
    user = make_user()
    run = IngestionRun(user_id=user.id, status="ingesting", current_stage=4)
    session.add(run)
    session.commit()
    with pytest.raises(IntegrityError, match="ck_ingestion_runs_counters_non_negative"):
        session.execute(
            sa.text(f"UPDATE ingestion_runs SET {column} = {column} - 1 WHERE run_id = :id"), {"id": run.run_id}
        )
    session.rollback()


def test_unknown_run_status_is_rejected(session, make_user):
    user = make_user()
    session.add(IngestionRun(user_id=user.id, status="paused"))
    with pytest.raises(IntegrityError, match="ck_ingestion_runs_status"):
        session.commit()
    session.rollback()
