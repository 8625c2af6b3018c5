"""Recording cost of the change records: the worker's batch path (`record_item_results`, batches
of `--batch`, each item with its page's validators) for a first run (every job new) and a second
run over the same URLs with edited titles (every job changed), on PostgreSQL.

    python bench/changes_bench.py [--jobs 5000] [--batch 10] [--code-root PATH]

`--code-root` runs the same measurement against another checkout of the project (e.g. one
without change records) for comparison. Uses a throwaway database on the local PostgreSQL
(`BENCH_ADMIN_DATABASE_URL`, default postgresql://postgres@127.0.0.1:5432/postgres), created,
migrated and dropped. Prints one JSON line: items per second and CPU ms per item (this process:
SQLAlchemy, the driver, building the rows) for each run, and the number of change rows written.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from pathlib import Path

ADMIN = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=10, help="items recorded per transaction")
    parser.add_argument("--code-root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    sys.path.insert(0, str(args.code_root.resolve()))
    import sqlalchemy as sa

    name = f"bench_changes_{secrets.token_hex(3)}"
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(ADMIN).set(database=name).render_as_string(hide_password=False)
    os.environ.update(DATABASE_URL=url, APP_ENV="test", JWT_SECRET="bench-" + "x" * 40)
    try:
        print(json.dumps(_measure(args.jobs, url, args.code_root, args.batch)))
    finally:
        from ingest_app.core.db import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0


def _measure(jobs: int, url: str, root: Path, batch_size: int) -> dict:
    import sqlalchemy as sa
    from sqlmodel import Session

    from ingest_app.core.crawl.types import Posting
    from ingest_app.core.db import get_engine
    from ingest_app.core.models import IngestionRun, IngestionRunItem, User, utcnow
    from ingest_app.core.pipeline import ItemResult, record_item_results
    from ingest_app.migrations import upgrade

    upgrade(url)
    engine = get_engine()
    urls = [f"https://jobs.example.com/acme/{i}" for i in range(jobs)]
    with Session(engine) as session:
        user = User(email="bench@example.com", password_hash="x")
        session.add(user)
        session.commit()
        user_id = user.id

    def one_run(title: str) -> tuple[float, float]:
        with Session(engine) as session:
            now = utcnow()
            run = IngestionRun(
                user_id=user_id,
                status="ingesting",
                current_stage=4,
                total_jobs_found=jobs,
                companies=[],
                created_at=now,
                started_at=now,
                last_heartbeat=now,
            )
            session.add(run)
            session.flush()
            items = [IngestionRunItem(run_id=run.run_id, company="Acme", url=u) for u in urls]
            session.add_all(items)
            session.commit()
            pairs = [(run.run_id, item.id, item.url) for item in items]
        started, cpu_started = time.perf_counter(), time.process_time()
        for start in range(0, len(pairs), batch_size):
            batch = [
                ItemResult(
                    r,
                    i,
                    u,
                    posting=Posting(source_url=u, title=title, location="Berlin", description="d"),
                    validators=(f'"{title}-{i}"', None),
                )
                for r, i, u in pairs[start : start + batch_size]
            ]
            assert set(record_item_results(batch)) == {"succeeded"}
        return time.perf_counter() - started, time.process_time() - cpu_started

    (first, first_cpu), (second, second_cpu) = one_run("Engineer"), one_run("Senior Engineer")
    with engine.connect() as conn:
        has_changes = sa.inspect(conn).has_table("run_changes")
        changes = conn.execute(sa.text("SELECT count(*) FROM run_changes")).scalar_one() if has_changes else 0
    return {
        "code_root": str(root),
        "jobs": jobs,
        "batch": batch_size,
        "first_run_items_per_second": round(jobs / first, 1),
        "first_run_cpu_ms_per_item": round(1000 * first_cpu / jobs, 3),
        "second_run_items_per_second": round(jobs / second, 1),
        "second_run_cpu_ms_per_item": round(1000 * second_cpu / jobs, 3),
        "change_rows": changes,
    }


if __name__ == "__main__":
    raise SystemExit(main())
