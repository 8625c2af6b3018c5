"""The run lifecycle: start, stage 2 preview, stage 3 (list + archive + enqueue), the queue
messages, processing and recording item results, completion, progress and history queries,
reset, stale detection.

Plain functions over a SQLModel Session (or their own short transactions); no reflex here.
"""

from ingest_app.core.pipeline.errors import NoCompanies, PipelineError, RunAlreadyActive, RunNotActive, RunNotFound
from ingest_app.core.pipeline.messages import ItemMessage, ListingMessage, QueueMessage, parse_message
from ingest_app.core.pipeline.preview import preview_company
from ingest_app.core.pipeline.process import process_batch, process_item, process_items
from ingest_app.core.pipeline.queries import SKIPPED_LABEL, SKIPPED_REASON, get_progress, list_history
from ingest_app.core.pipeline.record import ItemResult, record_item_result, record_item_results
from ingest_app.core.pipeline.runs import get_active_run, reset_run, start_run
from ingest_app.core.pipeline.stage3 import begin_stage3, process_listing, run_stage3
from ingest_app.core.pipeline.stale import detect_stale_runs

__all__ = [
    "SKIPPED_LABEL",
    "SKIPPED_REASON",
    "ItemMessage",
    "ItemResult",
    "ListingMessage",
    "QueueMessage",
    "begin_stage3",
    "NoCompanies",
    "PipelineError",
    "RunAlreadyActive",
    "RunNotActive",
    "RunNotFound",
    "detect_stale_runs",
    "get_active_run",
    "get_progress",
    "list_history",
    "parse_message",
    "preview_company",
    "process_batch",
    "process_item",
    "process_listing",
    "process_items",
    "record_item_result",
    "record_item_results",
    "reset_run",
    "run_stage3",
    "start_run",
]
