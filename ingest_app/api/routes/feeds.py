"""The Atom feed of new jobs at a secret URL, and managing that URL (signed in)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ingest_app.api.deps import CurrentUser, SessionDep
from ingest_app.api.errors import responses
from ingest_app.api.schemas import FeedOut, FeedStatusOut
from ingest_app.core import feeds
from ingest_app.core.db import session_scope

router = APIRouter(tags=["feeds"])


@router.get(
    "/feeds/{token}.atom",
    response_class=Response,
    summary="Atom feed of the token owner's new jobs (no sign-in: the token is the secret)",
    responses={
        200: {"content": {"application/atom+xml": {}}},
        **responses(404, 422, d404="Unknown or revoked feed"),
    },
)
async def atom_feed(token: Annotated[str, Path(max_length=100)]) -> Response:
    def _render() -> bytes | None:
        with session_scope() as session:
            try:
                return feeds.render_feed(session, token)
            except feeds.FeedNotFound:
                return None

    body = await run_in_threadpool(_render)
    if body is None:
        return JSONResponse({"detail": "Feed not found"}, status_code=status.HTTP_404_NOT_FOUND)
    return Response(body, media_type="application/atom+xml; charset=utf-8", headers={"Cache-Control": "private"})


@router.get("/api/feed", response_model=FeedStatusOut, summary="Whether my feed URL exists", responses=responses(401))
def feed_status(session: SessionDep, user: CurrentUser) -> FeedStatusOut:
    found = feeds.feed_status(session, user.id)
    return FeedStatusOut(active=found.active, created_at=found.created_at)


@router.post(
    "/api/feed",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedOut,
    summary="Create my secret feed URL (shown once; the previous one stops working)",
    responses=responses(401),
)
def create_feed(request: Request, session: SessionDep, user: CurrentUser) -> FeedOut:
    path = feeds.feed_path(feeds.create_feed(session, user.id))
    return FeedOut(path=path, url=str(request.base_url).rstrip("/") + path)


@router.delete(
    "/api/feed", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke my feed URL", responses=responses(401)
)
def revoke_feed(session: SessionDep, user: CurrentUser) -> Response:
    feeds.revoke_feed(session, user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
