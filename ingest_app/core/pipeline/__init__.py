"""The run lifecycle: start, stage 3 (list + archive + enqueue), record item results,
completion, progress and history queries, reset, stale detection.

Plain functions over a SQLModel Session (or their own short transactions); no reflex here.
"""

from ingest_app.core.pipeline.batch import ItemResult, process_items, record_item_results
from ingest_app.core.pipeline.errors import NoCompanies, PipelineError, RunAlreadyActive, RunNotActive, RunNotFound
from ingest_app.core.pipeline.queries import SKIPPED_LABEL, SKIPPED_REASON, get_progress, list_history
from ingest_app.core.pipeline.recording import process_item, record_item_result
from ingest_app.core.pipeline.runs import get_active_run, reset_run, start_run
from ingest_app.core.pipeline.preview import preview_company
from ingest_app.core.pipeline.stage3 import begin_stage3, process_listing, run_stage3
from ingest_app.core.pipeline.stale import detect_stale_runs

__all__ = [
    "SKIPPED_LABEL",
    "SKIPPED_REASON",
    "ItemResult",
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
    "preview_company",
    "process_item",
    "process_listing",
    "process_items",
    "record_item_result",
    "record_item_results",
    "reset_run",
    "run_stage3",
    "start_run",
]
