"""The signed-in user's run schedule: cron or preset, IANA timezone, enabled; next run time."""

from __future__ import annotations

from fastapi import APIRouter

from ingest_app.api.deps import CurrentUser, SessionDep
from ingest_app.api.errors import responses
from ingest_app.api.schemas import ScheduleIn, ScheduleOut
from ingest_app.core import schedules

router = APIRouter(prefix="/api/schedule", tags=["schedule"])


@router.get("", response_model=ScheduleOut, summary="My run schedule", responses=responses(401))
def get_schedule(session: SessionDep, user: CurrentUser) -> dict:
    return schedules.get_schedule(session, user.id).as_dict()


@router.put(
    "",
    response_model=ScheduleOut,
    summary="Set my run schedule (a 5-field cron expression or a preset, in an IANA timezone)",
    responses=responses(400, 401, 422),
)
def put_schedule(body: ScheduleIn, session: SessionDep, user: CurrentUser) -> dict:
    preset = body.preset.model_dump(exclude_none=True) if body.preset is not None else None
    view = schedules.put_schedule(
        session, user.id, cron=body.cron, preset=preset, tz_name=body.timezone, enabled=body.enabled
    )
    return view.as_dict()
