"""The worker side: record one item's result exactly once; complete the run exactly once.

At-least-once delivery means the same message can arrive twice, concurrently, or after a reset.
One transaction per item:

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
of deadlocking. `process_items` checks a batch's items with one query before crawling them.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from ingest_app.core.crawl.politeness import HostBusy
from ingest_app.core.crawl.types import CrawlError, Posting
from ingest_app.core.db import get_engine, worker_transaction
from ingest_app.core.jobs import upsert_job
from ingest_app.core.models import Company, IngestionRun, IngestionRunItem, utcnow
from ingest_app.core.pipeline import incremental

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
                    incremental.touch_jobs(conn, owner.user_id, [item.url], run_id, now)
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
                    incremental.store_page_validators(conn, owner.user_id, {item.url: validators}, now)
            counters = conn.execute(
                COUNT_ITEMS,
                {
                    "p_run_id": run_id,
                    "p_processed": 1,
                    "p_added": int(added),
                    "p_failed": int(state == "failed"),
                    "p_skipped": int(state == "skipped"),
                    "p_now": now,
                },
            ).first()
            if counters is None:
                # The run left `ingesting` (reset, failed) after the item update began: change nothing.
                tx.rollback()
                return False
            complete_if_counted(conn, run_id, counters)
    return True


_OPEN_ITEM = (
    sa.select(RUNS.c.status, ITEMS.c.state, ITEMS.c.url, ITEMS.c.hints, ITEMS.c.posting)
    .select_from(ITEMS.join(RUNS, RUNS.c.run_id == ITEMS.c.run_id))
    .where(ITEMS.c.id == sa.bindparam("p_item_id"), ITEMS.c.run_id == RUN_ID_PARAM)
)


def _open_item(run_id: int, item_id: int) -> dict[str, Any] | None:
    """Cheap pre-check: what to crawl for the item (from its row) while the run is ingesting and the
    item pending; None otherwise."""
    with get_engine().connect() as conn:
        row = conn.execute(_OPEN_ITEM, {"p_item_id": item_id, "p_run_id": run_id}).first()
    if row is None or row.status != "ingesting" or row.state != "pending":
        return None
    return {"run_id": run_id, "item_id": item_id, "url": row.url, "hints": row.hints or {}, "posting": row.posting}


def crawl_item(body: dict[str, Any]) -> tuple[incremental.Crawled | None, str | None]:
    """(what was learned, None) or (None, error) for one message; infrastructure errors raise."""
    from ingest_app.core.crawl import extract_job

    try:
        return incremental.crawl(body, extract_job), None
    except CrawlError as exc:
        return None, f"{exc.kind}: {exc.reason}"
    except (sa.exc.SQLAlchemyError, MemoryError, HostBusy):  # HostBusy: not now, the message comes back
        raise
    except Exception as exc:  # a crawler bug must not redeliver forever; record it on the item
        log.exception("extracting %s failed unexpectedly", body.get("url"))
        return None, f"internal_error: {type(exc).__name__}: {exc}"


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


def process_item(body: dict[str, Any]) -> str:
    """Handle one queue message body: "skipped" (nothing changed), "succeeded", "failed" or
    "not_a_job" (the item ended `skipped`: the page is not a job posting).

    The body only names the item (`run_id`, `item_id`); the URL and hints come from the item row.
    A crawl failure of any kind (after the crawler's own retries) is recorded as a failed item.
    Only infrastructure errors (the database unreachable) raise, so the message is redelivered.
    """
    run_id = int(body["run_id"])
    item_id = int(body["item_id"])
    item = _open_item(run_id, item_id)
    if item is None:
        return "skipped"
    crawled, error = crawl_item(item)
    if isinstance(crawled, Posting):  # a crawl function that only returns postings
        crawled = incremental.Crawled(posting=crawled)
    if crawled is None:
        return record_one(run_id, item_id, item["url"], None, error)
    return record_one(run_id, item_id, item["url"], crawled.posting, None, crawled.unchanged, crawled.validators)
