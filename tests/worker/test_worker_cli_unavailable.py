"""Operator commands with the database unreachable: one clear line and a non-zero exit, never a
traceback; `ingest --wait` keeps waiting through an outage and says the run goes on."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import sqlalchemy as sa

from devtools.emulator import free_port
from ingest_app.core.models import IngestionRun, utcnow
from ingest_app.core.settings import PROJECT_ROOT
from tests.support.runs import seed_run
from tests.support.settings import override_settings
from tests.support.tcp_proxy import database_proxy

RUNS = IngestionRun.__table__


def test_commands_print_one_line_and_exit_non_zero_when_the_database_is_down() -> None:
    nowhere = f"postgresql://postgres:s3cret-pw@127.0.0.1:{free_port()}/ingest"
    env = {**os.environ, "DATABASE_URL": nowhere}
    commands = [
        ["stale-check"],
        ["ingest", "--user", "someone@example.com"],
        ["ingest", "--user", "someone@example.com", "--wait", "--timeout", "1"],
    ]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "ingest_app", *argv],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in commands
    ]
    for argv, proc in zip(commands, procs, strict=True):
        out, err = proc.communicate(timeout=60)
        lines = err.strip().splitlines()
        assert proc.returncode == 3, (argv, err)
        assert len(lines) == 1, (argv, err)
        assert lines[0].startswith("error: the database is unreachable (127.0.0.1:"), (argv, err)
        assert "Connection refused" in lines[0] and "s3cret-pw" not in err and out == ""


def test_ingest_wait_keeps_waiting_through_a_database_outage(session, engine, make_user, capsys) -> None:
    from ingest_app.commands.ingest import wait_for_run

    user = make_user()
    run_id, _ = seed_run(session, user.id, ["https://jobs.example.com/1"])

    with database_proxy(os.environ["DATABASE_URL"]) as proxy:

        def outage_then_the_workers_finish() -> None:
            time.sleep(1.0)
            proxy.close()
            time.sleep(1.5)
            with engine.begin() as conn:  # the workers (not cut off) finish the run meanwhile
                conn.execute(
                    sa.update(RUNS)
                    .where(RUNS.c.run_id == run_id)
                    .values(status="completed", current_stage=5, jobs_processed=1, completed_at=utcnow())
                )
            time.sleep(1.0)
            proxy.open()

        with override_settings({"DATABASE_URL": proxy.url(os.environ["DATABASE_URL"])}):
            events = threading.Thread(target=outage_then_the_workers_finish)
            events.start()
            progress = wait_for_run(user.id, run_id, timeout=30, poll_interval=0.1)
            events.join()

    assert progress.status == "completed" and progress.jobs_processed == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2, err
    assert err[0].startswith("warning: the database is unreachable") and f"run {run_id} goes on" in err[0]
    assert err[1].startswith("the database is reachable again after")
