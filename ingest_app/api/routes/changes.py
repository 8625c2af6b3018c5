"""What changed in one run: new, closed, reopened, changed (before/after), reposted."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from ingest_app.api.deps import CurrentUser, SessionDep
from ingest_app.api.errors import responses
from ingest_app.api.schemas import MAX_ID, RunChangesOut
from ingest_app.core import changes

router = APIRouter(prefix="/api/ingest", tags=["ingestion"])

ChangeKind = Literal["new", "closed", "reopened", "changed", "reposted"]


@router.get(
    "/runs/{run_id}/changes",
    response_model=RunChangesOut,
    summary="What one of my runs changed: new, closed, reopened, changed (before/after), reposted",
    responses=responses(401, 404, 422),
)
def run_changes(
    session: SessionDep,
    user: CurrentUser,
    run_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    kind: Annotated[list[ChangeKind] | None, Query(description="Only these kinds (repeatable)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict:
    return changes.get_run_changes(session, user.id, run_id, kinds=kind, limit=limit, offset=offset)
