"""Recording crawled items exactly once and completing the run exactly once: the worker's SQL.

At-least-once delivery means the same message can arrive twice, concurrently, or after a reset.
One transaction per item (`record_item_result`):

1. guarded transition `pending -> succeeded|failed|skipped` of the item (`skipped`: the page is
   not a job posting; it counts as processed, not as failed) (only while the run is ingesting);
2. only if that changed a row: upsert the job, increment the run counters with SQL (guarded by
   `status='ingesting'` again: it takes the run row lock, so a reset that committed first makes it
   match nothing and the whole transaction rolls back), refresh the heartbeat;
3. the completion UPDATE, which only the transaction that brings `jobs_processed` up to
   `total_jobs_found` can match.

The worker records a whole SQS batch the same way in ONE transaction per run
(`record_item_results`): the pending items locked in id order, their guarded transitions, the job
upserts of the items that moved (in source URL order), one counter increment by the number of
items that moved, the heartbeat, then the completion UPDATE. Lock order is always items, jobs, run
row, so concurrent batches (duplicate deliveries grouped differently) wait for each other instead
of deadlocking. pipeline/process.py crawls the items it records.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ingest_app.core.crawl.types import Posting
from ingest_app.core.db import get_engine, worker_transaction
from ingest_app.core.jobs import job_row, upsert_job, upsert_jobs_postgresql
from ingest_app.core.models import Company, IngestionRun, IngestionRunItem, utcnow
from ingest_app.core.pipeline import job_pages

log = logging.getLogger(__name__)

# Crawl errors that say the page is not a job posting at all: nothing failed, there is just no job
# to store, so the item ends `skipped` and is not counted in jobs_failed.
SKIPPED_ERROR_KINDS = frozenset({"not_a_job_page"})
# The recording outcome of an item that ended `skipped` ("skipped" alone already names a message
# that changed nothing: a duplicate, or a run no longer ingesting).
NOT_A_JOB = "not_a_job"

RUNS = IngestionRun.__table__
ITEMS = IngestionRunItem.__table__
COMPANIES = Company.__table__


# The hot path's statements, built once; each call only binds parameters.
RUN_ID_PARAM = sa.bindparam("p_run_id")
_COMPLETE = (
    sa.update(RUNS)
    .where(
        RUNS.c.run_id == RUN_ID_PARAM,
        RUNS.c.status == "ingesting",
        RUNS.c.jobs_processed >= RUNS.c.total_jobs_found,
    )
    .values(
        status="completed", current_stage=5, completed_at=sa.bindparam("p_now"), last_heartbeat=sa.bindparam("p_now")
    )
)
_FINISH_ITEM = (
    sa.update(ITEMS)
    .where(
        ITEMS.c.id == sa.bindparam("p_item_id"),
        ITEMS.c.run_id == RUN_ID_PARAM,
        ITEMS.c.state == "pending",
        sa.exists().where(RUNS.c.run_id == RUN_ID_PARAM, RUNS.c.status == "ingesting"),
    )
    .values(
        state=sa.bindparam("p_state"),
        error=sa.bindparam("p_error"),
        attempts=ITEMS.c.attempts + 1,
        finished_at=sa.bindparam("p_now"),
        updated_at=sa.bindparam("p_now"),
    )
    .returning(ITEMS.c.company_id, ITEMS.c.company, ITEMS.c.url)
)
# The company may have been deleted since stage 3: then the job keeps no company_id.
_OWNER = (
    sa.select(RUNS.c.user_id, COMPANIES.c.id.label("company_id"))
    .select_from(
        RUNS.outerjoin(
            COMPANIES,
            sa.and_(COMPANIES.c.id == sa.bindparam("p_company_id"), COMPANIES.c.user_id == RUNS.c.user_id),
        )
    )
    .where(RUNS.c.run_id == RUN_ID_PARAM)
)
COUNT_ITEMS = (
    sa.update(RUNS)
    .where(RUNS.c.run_id == RUN_ID_PARAM, RUNS.c.status == "ingesting")
    .values(
        jobs_processed=RUNS.c.jobs_processed + sa.bindparam("p_processed", type_=sa.Integer),
        jobs_added=RUNS.c.jobs_added + sa.bindparam("p_added", type_=sa.Integer),
        jobs_failed=RUNS.c.jobs_failed + sa.bindparam("p_failed", type_=sa.Integer),
        jobs_skipped=RUNS.c.jobs_skipped + sa.bindparam("p_skipped", type_=sa.Integer),
        last_heartbeat=sa.bindparam("p_now"),
    )
    .returning(RUNS.c.jobs_processed, RUNS.c.total_jobs_found)
)

# Row locks in item id order, so two transactions recording overlapping items (a duplicate
# delivery batched differently) queue behind each other instead of deadlocking.
_LOCK_PENDING = (
    sa.select(ITEMS.c.id)
    .where(
        ITEMS.c.run_id == RUN_ID_PARAM,
        ITEMS.c.id.in_(sa.bindparam("p_item_ids", expanding=True)),
        ITEMS.c.state == "pending",
    )
    .order_by(ITEMS.c.id)
    .with_for_update()
)
_FINISH_ITEMS = sa.text(
    """
    UPDATE ingestion_run_items AS i
    SET state = v.state, error = v.error, attempts = i.attempts + 1, finished_at = :p_now, updated_at = :p_now
    FROM unnest(CAST(:p_ids AS integer[]), CAST(:p_states AS text[]), CAST(:p_errors AS text[])) AS v(id, state, error)
    WHERE i.id = v.id AND i.run_id = :p_run_id AND i.state = 'pending'
      AND EXISTS (SELECT 1 FROM ingestion_runs AS r WHERE r.run_id = :p_run_id AND r.status = 'ingesting')
    RETURNING i.id, i.company_id, i.company, i.url
    """
).columns(
    sa.column("id", sa.Integer),
    sa.column("company_id", sa.Integer),
    sa.column("company", sa.String),
    sa.column("url", sa.String),
)
_OWNERS = (
    sa.select(RUNS.c.user_id, COMPANIES.c.id.label("company_id"))
    .select_from(
        RUNS.outerjoin(
            COMPANIES,
            sa.and_(
                COMPANIES.c.id.in_(sa.bindparam("p_company_ids", expanding=True)),
                COMPANIES.c.user_id == RUNS.c.user_id,
            ),
        )
    )
    .where(RUNS.c.run_id == RUN_ID_PARAM)
)


@dataclass
class ItemResult:
    """One crawled item to record: `posting` for a success, `error` for a failure (or, for a page
    that is not a job posting, the reason it is skipped)."""

    run_id: int
    item_id: int
    url: Any = None
    posting: Posting | None = None
    error: str | None = None
    unchanged: bool = False  # the page answered 304: succeeded, nothing added
    validators: tuple[str | None, str | None] | None = None  # of the fetched page, stored with the job


def item_state(posting: Posting | None, error: str | None) -> str:
    """The state an item leaves `pending` for: `succeeded` with a posting, `skipped` when the error
    says the page is not a job posting (errors are "kind: reason", see crawl_item), else `failed`."""
    if error is None:  # a posting, or a page that answered 304 (unchanged)
        return "succeeded"
    kind = (error or "").partition(":")[0].strip()
    return "skipped" if kind in SKIPPED_ERROR_KINDS else "failed"


def outcome_of(state: str) -> str:
    """What the recording functions report for an item that moved to `state`."""
    return NOT_A_JOB if state == "skipped" else state


def complete_if_done(conn: sa.Connection, run_id: int) -> bool:
    """The one completion UPDATE; True only for the caller whose UPDATE matched."""
    return conn.execute(_COMPLETE, {"p_run_id": run_id, "p_now": utcnow()}).rowcount == 1


def relax_commit(conn: sa.Connection) -> None:
    """The worker's limits for the recording transaction just begun (db.worker_transaction), and,
    unless WORKER_SYNCHRONOUS_COMMIT is set, a commit that does not wait for the disk flush
    (PostgreSQL): a crash loses it whole, its items stay pending and are re-sent."""
    worker_transaction(conn, relax_commit=True)


def complete_if_counted(conn: sa.Connection, run_id: int, counters: Any) -> None:
    """After a counter increment: the guarded completion, once every item is counted."""
    if counters.jobs_processed >= counters.total_jobs_found and complete_if_done(conn, run_id):
        log.info("run %s completed", run_id)


def record_item_result(
    run_id: int,
    item_id: int,
    *,
    posting: Posting | None,
    error: str | None,
    unchanged: bool = False,
    validators: tuple[str | None, str | None] | None = None,
) -> bool:
    """Record the outcome of one item; True when this call moved it out of `pending`.

    `posting` for a success, `unchanged` for a page that answered 304 (succeeded, nothing added,
    the job's last_seen_at refreshed), `error` (e.g. "not_found: HTTP 404") for a failure; an
    error of a page that is not a job posting ("not_a_job_page: ...") ends the item `skipped`.
    `validators` of the fetched page are stored with the job. Returns False for a duplicate
    delivery, an unknown item, or a run that is no longer ingesting; nothing changes then.
    """
    if (posting is None and not unchanged) == (error is None):
        raise ValueError("pass exactly one of posting (or unchanged) or error")
    state = item_state(posting, error)
    succeeded = state == "succeeded"
    now = utcnow()
    with get_engine().connect() as conn:
        with conn.begin() as tx:
            relax_commit(conn)
            item = conn.execute(
                _FINISH_ITEM,
                {
                    "p_run_id": run_id,
                    "p_item_id": item_id,
                    "p_state": state,
                    "p_error": None if succeeded else error[:4000],
                    "p_now": now,
                },
            ).first()
            if item is None:
                tx.rollback()
                return False
            added = False
            if succeeded:
                owner = conn.execute(_OWNER, {"p_run_id": run_id, "p_company_id": item.company_id}).one()
                if posting is None:
                    job_pages.touch_jobs(conn, owner.user_id, [item.url], run_id, now)
                else:
                    added = upsert_job(
                        conn,
                        user_id=owner.user_id,
                        company_id=owner.company_id,
                        company=item.company,
                        source_url=item.url,
                        posting=posting,
                        run_id=run_id,
                        now=now,
                    )
                if validators:
                    job_pages.store_page_validators(conn, owner.user_id, {item.url: validators}, now)
            counters = conn.execute(COUNT_ITEMS, _counts(run_id, [state], int(added), now)).first()
            if counters is None:
                # The run left `ingesting` (reset, failed) after the item update began: change nothing.
                tx.rollback()
                return False
            complete_if_counted(conn, run_id, counters)
    return True


def record_one(
    run_id: int,
    item_id: int,
    url: Any,
    posting: Posting | None,
    error: str | None,
    unchanged: bool = False,
    validators: tuple | None = None,
) -> str:
    """record_item_result, with a posting the database refuses recorded as a failed item."""
    try:
        recorded = record_item_result(
            run_id, item_id, posting=posting, error=error, unchanged=unchanged, validators=validators
        )
    except (sa.exc.DataError, sa.exc.IntegrityError) as exc:
        if posting is None:
            raise
        # The database refuses this posting's data; another delivery would fail the same way.
        log.warning("storing %s failed: %s", url, exc.orig)
        posting, error = None, f"invalid_data: the posting could not be stored ({type(exc.orig).__name__})"
        recorded = record_item_result(run_id, item_id, posting=None, error=error)
    if not recorded:
        return "skipped"
    return outcome_of(item_state(posting, error))


def _record_run_batch(run_id: int, results: list[ItemResult]) -> dict[int, str]:
    """Record several items of one run in ONE transaction (PostgreSQL): item_id -> outcome.

    Same guarantees as record_item_result for each item: the guarded transitions (row locks taken
    in item id order), the job upserts of the items that moved (source URL order), ONE counter
    increment by the number of items actually moved, the heartbeat, then the completion UPDATE.
    A run that is not ingesting changes nothing ("skipped" for all).
    """
    by_id = {r.item_id: r for r in sorted(results, key=lambda r: r.item_id)}
    states = {item_id: item_state(r.posting, r.error) for item_id, r in by_id.items()}
    outcomes = dict.fromkeys(by_id, "skipped")
    now = utcnow()
    with get_engine().connect() as conn:
        with conn.begin() as tx:
            relax_commit(conn)
            moved = _finish_items(conn, run_id, by_id, states, now)
            if not moved:
                tx.rollback()
                return outcomes
            succeeded = [row for row in moved if states[row.id] == "succeeded"]
            n_added = _store_jobs(conn, run_id, succeeded, by_id, now) if succeeded else 0
            counts = _counts(run_id, [states[row.id] for row in moved], n_added, now)
            counters = conn.execute(COUNT_ITEMS, counts).first()
            if counters is None:
                # The run left `ingesting` (reset, failed) after the item updates began: change nothing.
                tx.rollback()
                return outcomes
            complete_if_counted(conn, run_id, counters)
    for row in moved:
        outcomes[row.id] = outcome_of(states[row.id])
    return outcomes


def _finish_items(
    conn: sa.Connection, run_id: int, by_id: dict[int, ItemResult], states: dict[int, str], now: Any
) -> list[Any]:
    """Lock the items still pending (in id order) and move them to their states; the rows moved
    (none when the run is not ingesting or every item was recorded before)."""
    pending = conn.execute(_LOCK_PENDING, {"p_run_id": run_id, "p_item_ids": list(by_id)}).scalars().all()
    if not pending:
        return []
    return conn.execute(
        _FINISH_ITEMS,
        {
            "p_run_id": run_id,
            "p_ids": pending,
            "p_states": [states[i] for i in pending],
            "p_errors": [None if states[i] == "succeeded" else by_id[i].error[:4000] for i in pending],
            "p_now": now,
        },
    ).all()


def _store_jobs(conn: sa.Connection, run_id: int, succeeded: list[Any], by_id: dict[int, ItemResult], now: Any) -> int:
    """The jobs of the items that moved to `succeeded`: upserted (postings), refreshed (pages that
    answered 304), their page validators stored; how many jobs were added."""
    company_ids = sorted({row.company_id for row in succeeded if row.company_id is not None})
    owners = conn.execute(_OWNERS, {"p_run_id": run_id, "p_company_ids": company_ids}).all()
    user_id = owners[0].user_id
    rows = _job_rows(run_id, user_id, {o.company_id for o in owners}, succeeded, by_id, now)
    n_added = sum(upsert_jobs_postgresql(conn, rows).values()) if rows else 0
    touched = [row.url for row in succeeded if by_id[row.id].unchanged]
    job_pages.touch_jobs(conn, user_id, touched, run_id, now)
    pages = {row.url: by_id[row.id].validators for row in succeeded if by_id[row.id].validators}
    job_pages.store_page_validators(conn, user_id, pages, now)
    return n_added


def _job_rows(
    run_id: int, user_id: int, companies: set[int | None], succeeded: list[Any], by_id: dict[int, ItemResult], now: Any
) -> list[dict[str, Any]]:
    """The job rows of the succeeded items that carry a posting; a company deleted since stage 3
    (not in `companies`, the user's company ids) leaves its jobs without one."""
    # Distinct URLs: an item's URL is unique within its run (uq_ingestion_run_items_run_url).
    return [
        job_row(
            user_id=user_id,
            company_id=row.company_id if row.company_id in companies else None,
            company=row.company,
            source_url=row.url,
            posting=by_id[row.id].posting,
            run_id=run_id,
            now=now,
        )
        for row in succeeded
        if by_id[row.id].posting is not None
    ]


def _counts(run_id: int, states: list[str], added: int, now: Any) -> dict[str, Any]:
    """The parameters of the one counter increment for items that moved to `states`."""
    return {
        "p_run_id": run_id,
        "p_processed": len(states),
        "p_added": added,
        "p_failed": states.count("failed"),
        "p_skipped": states.count("skipped"),
        "p_now": now,
    }


def record_item_results(results: list[ItemResult]) -> list[str | BaseException]:
    """Record crawled items: per result "succeeded", "failed", "not_a_job" (the item ended
    `skipped`: not a job posting), "skipped" (a duplicate, or a run no longer ingesting) or the
    infrastructure exception that kept it from being recorded (nothing of it changed then; the
    message should be delivered again).

    On PostgreSQL the items of one run go in one transaction, and the runs of one call are recorded
    at the same time (their rows are disjoint: one active run per user), so a lock held on one
    run's rows delays only that run until `lock_timeout`. A posting the database refuses sends
    that run's items through the one-by-one path, where it becomes a failed item.
    """
    for r in results:
        if (r.posting is None and not r.unchanged) == (r.error is None):
            raise ValueError("pass exactly one of posting (or unchanged) or error")
    out: list[str | BaseException] = ["skipped"] * len(results)
    groups: dict[int, list[int]] = {}
    for index, r in enumerate(results):
        groups.setdefault(r.run_id, []).append(index)
    postgres = get_engine().dialect.name == "postgresql"

    def record_run(run_id: int) -> None:
        first: dict[int, int] = {}
        for index in groups[run_id]:  # the same item twice in one batch: the second is a duplicate
            first.setdefault(results[index].item_id, index)
        unique = [results[i] for i in first.values()]
        if postgres:
            try:
                done = _record_run_batch(run_id, unique)
                for item_id, index in first.items():
                    out[index] = done[item_id]
                return
            except (sa.exc.DataError, sa.exc.IntegrityError):
                log.warning("recording run %s's batch failed on its data; recording its items one by one", run_id)
            except Exception as exc:  # infrastructure (down, a lock held elsewhere): none of these changed
                for index in first.values():
                    out[index] = exc
                return
        for item_id, index in first.items():
            r = results[index]
            try:
                out[index] = record_one(run_id, item_id, r.url, r.posting, r.error, r.unchanged, r.validators)
            except Exception as exc:  # infrastructure: this item did not change
                out[index] = exc

    run_ids = sorted(groups)
    if postgres and len(run_ids) > 1:
        others = [threading.Thread(target=record_run, args=(r,), name=f"record-{r}") for r in run_ids[1:]]
        for thread in others:
            thread.start()
        record_run(run_ids[0])
        for thread in others:
            thread.join()
    else:
        for run_id in run_ids:
            record_run(run_id)
    return out
