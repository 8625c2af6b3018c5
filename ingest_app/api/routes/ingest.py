"""Ingestion runs: start, progress, history, reset, and the active run."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, status
from starlette.concurrency import run_in_threadpool

from ingest_app.api.deps import CurrentUser, SessionDep, TokenDep, read_as_user
from ingest_app.api.errors import responses
from ingest_app.api.schemas import MAX_ID, MessageOut, ProgressOut, StartIn, StartOut
from ingest_app.core import changes, pipeline
from ingest_app.core.pipeline.read_models import HistoryEntry, RunProgress

router = APIRouter(prefix="/api/ingest", tags=["ingestion"])

RunId = Annotated[int, Path(ge=1, le=MAX_ID, description="A run id of the signed-in user")]


@router.post(
    "/start",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=StartOut,
    summary="Start a run; listing, archiving and crawling continue in the worker fleet",
    responses=responses(400, 401, 409, 422),
)
def start(session: SessionDep, user: CurrentUser, body: Annotated[StartIn | None, Body()] = None) -> StartOut:
    company_ids = body.company_ids if body is not None else None
    run = pipeline.start_run(session, user.id, company_ids=company_ids)
    pipeline.begin_stage3(run.run_id)  # one listing message per company; no fetch here
    return StartOut(run_id=run.run_id, status=run.status, current_stage=run.current_stage)


@router.get(
    "/runs/{run_id}/progress",
    response_model=ProgressOut,
    summary="Progress of one of my runs",
    responses=responses(401, 404, 422),
)
async def progress(run_id: RunId, token: TokenDep) -> RunProgress:
    return await run_in_threadpool(read_as_user, token, lambda s, user_id: pipeline.get_progress(s, user_id, run_id))


@router.get(
    "/history",
    response_model=list[HistoryEntry],
    summary="My finished runs (completed and failed), newest first",
    responses=responses(401, 422),
)
def history(
    session: SessionDep, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=100)] = 10
) -> list[HistoryEntry]:
    return changes.attach_summaries(session, pipeline.list_history(session, user.id, limit=limit))


@router.post(
    "/runs/{run_id}/reset",
    response_model=MessageOut,
    summary="Abort an active run (it ends failed; late results are ignored)",
    responses=responses(401, 404, 409, 422),
)
def reset(run_id: RunId, session: SessionDep, user: CurrentUser) -> MessageOut:
    run = pipeline.reset_run(session, user.id, run_id)
    return MessageOut(message=f"Run {run.run_id} was reset; it is now {run.status}")


@router.get(
    "/active",
    response_model=ProgressOut | None,
    summary="Progress of my active run, or null",
    responses=responses(401),
)
def active(session: SessionDep, user: CurrentUser) -> RunProgress | None:
    run = pipeline.get_active_run(session, user.id)
    return None if run is None else pipeline.get_progress(session, user.id, run.run_id)
