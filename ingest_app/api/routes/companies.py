"""The signed-in user's company configs, and the dry run of one company."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response, status

from ingest_app.api.deps import CurrentUser, SessionDep
from ingest_app.api.errors import responses
from ingest_app.api.schemas import MAX_ID, CompanyHealthOut, CompanyIn, CompanyOut, CompanyPatch, PreviewOut
from ingest_app.core import companies, health
from ingest_app.core.listing_pool import PreviewBusy
from ingest_app.core.pipeline.stage3 import preview_company_async

router = APIRouter(prefix="/api/companies", tags=["companies"])

CompanyId = Annotated[int, Path(ge=1, le=MAX_ID, description="A company id of the signed-in user")]


def _with_health(company, company_health: health.CompanyHealth) -> CompanyOut:
    out = CompanyOut.model_validate(company)
    out.health = CompanyHealthOut.model_validate(company_health)
    return out


@router.get("", response_model=list[CompanyOut], summary="My companies with board health", responses=responses(401))
def list_companies(session: SessionDep, user: CurrentUser) -> list[CompanyOut]:
    healths = health.health_for_user(session, user.id)
    return [_with_health(c, healths[c.id]) for c in companies.list_companies(session, user.id)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CompanyOut,
    summary="Add a company",
    responses=responses(400, 401, 409, 422),
)
def add_company(body: CompanyIn, session: SessionDep, user: CurrentUser) -> CompanyOut:
    company = companies.add_company(session, user.id, name=body.name, source=body.source, enabled=body.enabled)
    return CompanyOut.model_validate(company)


@router.get(
    "/{company_id}", response_model=CompanyOut, summary="One of my companies", responses=responses(401, 404, 422)
)
def get_company(company_id: CompanyId, session: SessionDep, user: CurrentUser) -> CompanyOut:
    return CompanyOut.model_validate(companies.get_company(session, user.id, company_id))


@router.patch(
    "/{company_id}",
    response_model=CompanyOut,
    summary="Rename, re-point, enable or disable a company",
    responses=responses(400, 401, 404, 409, 422),
)
def update_company(company_id: CompanyId, body: CompanyPatch, session: SessionDep, user: CurrentUser) -> CompanyOut:
    company = companies.update_company(
        session, user.id, company_id, name=body.name, source=body.source, enabled=body.enabled
    )
    return CompanyOut.model_validate(company)


@router.delete(
    "/{company_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a company (its jobs stay)",
    responses=responses(401, 404, 422),
)
def delete_company(company_id: CompanyId, session: SessionDep, user: CurrentUser) -> Response:
    companies.delete_company(session, user.id, company_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{company_id}/preview",
    response_model=PreviewOut,
    summary="Dry run: the job URLs this company lists now",
    responses=responses(401, 404, 422, 429, d429="Too many previews in flight; retry after `Retry-After` seconds"),
)
async def preview_company(company_id: CompanyId, user: CurrentUser) -> PreviewOut:
    # Async: the listing runs in the bounded preview pool; no request thread waits for it.
    try:
        return PreviewOut.model_validate(await preview_company_async(user.id, company_id))
    except PreviewBusy as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None


@router.post(
    "/{company_id}/check-move",
    response_model=CompanyHealthOut,
    summary='"Moved?": look for this company\'s board on the other families now',
    responses=responses(401, 404, 422, 429, d429="Too many checks in flight; retry after `Retry-After` seconds"),
)
async def check_move(company_id: CompanyId, user: CurrentUser) -> CompanyHealthOut:
    # Async: the search runs in the bounded listing pool under its deadline, off the request threads.
    try:
        return CompanyHealthOut.model_validate(await health.check_moved_async(user.id, company_id))
    except PreviewBusy as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None


@router.post(
    "/{company_id}/apply-move",
    response_model=CompanyOut,
    summary='Point the company at its "moved?" suggestion',
    responses=responses(401, 404, 409, 422),
)
def apply_move(company_id: CompanyId, session: SessionDep, user: CurrentUser) -> CompanyOut:
    company = health.apply_move(session, user.id, company_id)
    return _with_health(company, health.health_of(session, user.id, company_id))
