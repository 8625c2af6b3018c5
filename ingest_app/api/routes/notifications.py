"""Notification channels (Apprise URLs, signed webhooks), the digest rule, and delivery outcomes.

Nothing here contacts a channel: "send test" records a test delivery that the worker sends; its
outcome shows in the channel list and under /deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from ingest_app.api.deps import CurrentUser, SessionDep
from ingest_app.api.errors import responses
from ingest_app.api.schemas import MAX_ID, ChannelIn, ChannelOut, DeliveryOut, RuleIn, RuleOut, TestQueuedOut
from ingest_app.core.notify import channels

router = APIRouter(prefix="/api/notifications", tags=["notifications"])

ChannelId = Annotated[int, Path(ge=1, le=MAX_ID, description="A channel id of the signed-in user")]


@router.get("/channels", response_model=list[ChannelOut], summary="My channels", responses=responses(401))
def list_channels(session: SessionDep, user: CurrentUser) -> list[dict]:
    return [c.as_dict() for c in channels.list_channels(session, user.id)]


@router.post(
    "/channels",
    status_code=status.HTTP_201_CREATED,
    response_model=ChannelOut,
    summary="Add a channel (the URL and secret are stored encrypted and never shown again)",
    responses=responses(400, 401, 422),
)
def add_channel(body: ChannelIn, session: SessionDep, user: CurrentUser) -> dict:
    view = channels.add_channel(session, user.id, name=body.name, kind=body.kind, url=body.url, secret=body.secret)
    return view.as_dict()


@router.delete(
    "/channels/{channel_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a channel",
    responses=responses(401, 404, 422),
)
def delete_channel(channel_id: ChannelId, session: SessionDep, user: CurrentUser) -> Response:
    channels.delete_channel(session, user.id, channel_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/channels/{channel_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TestQueuedOut,
    summary="Send a test message (the worker sends it within a minute; see the channel's last_state)",
    responses=responses(401, 404, 422),
)
def test_channel(channel_id: ChannelId, session: SessionDep, user: CurrentUser) -> TestQueuedOut:
    delivery_id = channels.request_test(session, user.id, channel_id)
    return TestQueuedOut(delivery_id=delivery_id, message="The test message is queued for the worker")


@router.get(
    "/deliveries",
    response_model=list[DeliveryOut],
    summary="My latest deliveries with their outcome (sent, failed + reason, ...)",
    responses=responses(401, 422),
)
def deliveries(session: SessionDep, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[dict]:
    return channels.list_deliveries(session, user.id, limit=limit)


@router.get("/rules", response_model=RuleOut, summary="My digest rule", responses=responses(401))
def get_rules(session: SessionDep, user: CurrentUser) -> dict:
    return channels.get_rule(session, user.id).as_dict()


@router.put("/rules", response_model=RuleOut, summary="Set my digest rule", responses=responses(400, 401, 422))
def put_rules(body: RuleIn, session: SessionDep, user: CurrentUser) -> dict:
    return channels.put_rule(session, user.id, **body.model_dump()).as_dict()
