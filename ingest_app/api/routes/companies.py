"""The signed-in user's company configs, and the dry run of one company."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, HTTPException, Path, Response, UploadFile, status
from starlette.convertors import StringConvertor, register_url_convertor

from ingest_app.api.deps import CurrentUser, SessionDep
from ingest_app.api.errors import responses
from ingest_app.api.schemas import (
    MAX_ID,
    BulkIn,
    BulkOut,
    CompanyHealthOut,
    CompanyIn,
    CompanyOut,
    CompanyPatch,
    DetectIn,
    ImportIn,
    ImportOut,
    PreviewOut,
)
from ingest_app.core import companies, company_import, health
from ingest_app.core.detect import Detection, check_url, detect_async
from ingest_app.core.listing_pool import PreviewBusy
from ingest_app.core.pipeline.preview import preview_company_async
from ingest_app.core.settings import get_settings

_ACTIONS = ("detect", "import", "export", "bulk")
router = APIRouter(prefix="/api/companies", tags=["companies"])


class _CompanyIdSegment(StringConvertor):
    """A path segment that is a company id's place, never one of the collection's own actions:
    `PATCH /api/companies/detect` is a 405 like any other undeclared method, not "detect is not
    an integer". The id itself is still validated (422) by `CompanyId`."""

    regex = "(?!(?:" + "|".join(_ACTIONS) + ")$)[^/]+"


register_url_convertor("company_id", _CompanyIdSegment())

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


def _busy(exc: PreviewBusy) -> HTTPException:
    return HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)})


_BUSY = {"d429": "Too many detections, imports or previews in flight; retry after `Retry-After` seconds"}


@router.post(
    "/detect",
    response_model=Detection,
    summary="Which board is behind this URL? Proposals are probed live",
    responses=responses(400, 401, 422, 429, **_BUSY),
)
async def detect_company(body: DetectIn, user: CurrentUser) -> Detection:
    check_url(body.url)  # DetectError: 422 with the reason
    try:
        return await detect_async(user.id, body.url)
    except PreviewBusy as exc:
        raise _busy(exc) from None


def _import_out(summary: company_import.ImportSummary, dry_run: bool) -> ImportOut:
    return ImportOut(
        dry_run=dry_run,
        added=summary.added,
        new=sum(r.status == "new" for r in summary.rows),
        duplicates=summary.duplicates,
        errors=summary.errors,
        rows=summary.rows,
    )


async def _import(user_id: int, text: str, dry_run: bool) -> ImportOut:
    try:
        summary = await company_import.run_import_async(user_id, text, dry_run=dry_run)
    except PreviewBusy as exc:
        raise _busy(exc) from None
    return _import_out(summary, dry_run)


@router.post(
    "/import",
    response_model=ImportOut,
    summary="Import companies from CSV or a pasted list (dry run by default)",
    responses=responses(400, 401, 413, 422, 429, **_BUSY),
)
async def import_companies(body: ImportIn, user: CurrentUser) -> ImportOut:
    return await _import(user.id, body.text, body.dry_run)


@router.post(
    "/import/upload",
    response_model=ImportOut,
    summary="Import companies from an uploaded CSV file (dry run by default)",
    responses=responses(400, 401, 413, 422, 429, **_BUSY),
)
async def import_upload(
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="A CSV (UTF-8) or a list of URLs, one a line")],
    dry_run: Annotated[Literal["true", "false"], Form(description="true: report only")] = "true",
) -> ImportOut:
    limit = get_settings().import_max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise company_import.ImportInputError(f"The import is larger than {limit // 1024} KB; split it")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise company_import.ImportInputError("The file is not UTF-8 text; save it as CSV (UTF-8)") from None
    if "\x00" in text:
        raise company_import.ImportInputError("The file must not contain NUL characters")
    if not text.strip():
        raise company_import.ImportInputError("The file is empty")
    return await _import(user.id, text, dry_run == "true")


@router.get(
    "/export",
    response_class=Response,
    summary="My companies as CSV (name,source,enabled), importable as is",
    responses={**responses(401), 200: {"content": {"text/csv": {}}, "description": "The CSV file"}},
)
def export_companies(session: SessionDep, user: CurrentUser) -> Response:
    return Response(
        company_import.export_csv(session, user.id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="companies.csv"'},
    )


@router.post(
    "/bulk",
    response_model=BulkOut,
    summary="Enable, disable or delete several companies",
    responses=responses(400, 401, 422),
)
def bulk_companies(body: BulkIn, session: SessionDep, user: CurrentUser) -> BulkOut:
    missing = companies.missing_ids(session, user.id, body.ids)
    if body.action == "delete":
        changed = companies.delete_many(session, user.id, body.ids)
    else:
        changed = companies.set_enabled(session, user.id, body.ids, body.action == "enable")
    return BulkOut(action=body.action, changed=changed, not_found=missing)


@router.get(
    "/{company_id:company_id}",
    response_model=CompanyOut,
    summary="One of my companies",
    responses=responses(401, 404, 422),
)
def get_company(company_id: CompanyId, session: SessionDep, user: CurrentUser) -> CompanyOut:
    return CompanyOut.model_validate(companies.get_company(session, user.id, company_id))


@router.patch(
    "/{company_id:company_id}",
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
    "/{company_id:company_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a company (its jobs stay)",
    responses=responses(401, 404, 422),
)
def delete_company(company_id: CompanyId, session: SessionDep, user: CurrentUser) -> Response:
    companies.delete_company(session, user.id, company_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{company_id:company_id}/preview",
    response_model=PreviewOut,
    summary="Dry run: the job URLs this company lists now",
    responses=responses(401, 404, 422, 429, d429="Too many previews in flight; retry after `Retry-After` seconds"),
)
async def preview_company(company_id: CompanyId, user: CurrentUser) -> PreviewOut:
    # Async: the listing runs in the bounded preview pool; no request thread waits for it.
    try:
        return await preview_company_async(user.id, company_id)
    except PreviewBusy as exc:
        raise _busy(exc) from None


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
        raise _busy(exc) from None


@router.post(
    "/{company_id}/apply-move",
    response_model=CompanyOut,
    summary='Point the company at its "moved?" suggestion',
    responses=responses(401, 404, 409, 422),
)
def apply_move(company_id: CompanyId, session: SessionDep, user: CurrentUser) -> CompanyOut:
    company = health.apply_move(session, user.id, company_id)
    return _with_health(company, health.health_of(session, user.id, company_id))
