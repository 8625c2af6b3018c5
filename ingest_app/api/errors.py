"""Domain errors -> HTTP answers, always JSON `{"detail": ...}` and never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.convertors import CONVERTOR_TYPES
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from ingest_app.accounts.ratelimit import RateLimited, retry_after_header
from ingest_app.accounts.security import AuthError
from ingest_app.accounts.users import EmailTaken, UserError
from ingest_app.api.schemas import ErrorOut
from ingest_app.core.companies import CompanyError, CompanyLimitReached, CompanyNotFound, DuplicateCompany
from ingest_app.core.company_import import ImportInputError
from ingest_app.core.detect import DetectError
from ingest_app.core.notify import ChannelNotFound, NotifyError
from ingest_app.core.pipeline.errors import NoCompanies, RunAlreadyActive, RunNotActive, RunNotFound
from ingest_app.core.schedules import ScheduleError

log = logging.getLogger(__name__)

BEARER = {"WWW-Authenticate": "Bearer"}
_BUILTIN_CONVERTORS = ("str", "path", "int", "float", "uuid")
_HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}

_STATUS_BY_ERROR: dict[type[Exception], int] = {
    UserError: 422,
    EmailTaken: 409,
    CompanyError: 422,
    DuplicateCompany: 409,
    CompanyLimitReached: 409,
    CompanyNotFound: 404,
    ImportInputError: 422,
    DetectError: 422,
    NoCompanies: 422,
    RunAlreadyActive: 409,
    RunNotFound: 404,
    RunNotActive: 409,
    ScheduleError: 422,
    NotifyError: 422,
    ChannelNotFound: 404,
}

_DESCRIPTIONS = {
    400: "The request body could not be read",
    401: "Missing, malformed, expired or revoked bearer token",
    404: "Not found (or owned by another user)",
    409: "Conflict with the current state",
    413: "The request body is larger than the server accepts",
    415: "Unsupported content type",
    422: "Invalid input; `detail` says which rule failed",
    429: "Too many attempts; retry after `Retry-After` seconds",
    503: "Database unavailable",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}},
}


def responses(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the error answers a route can give (503 is always possible).

    `descriptions` overrides the default wording per code, e.g. `responses(401, d401="...")`.
    """
    out: dict[int | str, dict[str, Any]] = {}
    for code in sorted({*codes, 503}):
        description = descriptions.get(f"d{code}", _DESCRIPTIONS[code])
        entry: dict[str, Any] = {"model": ErrorOut, "description": description}
        if code in _HEADERS:
            entry["headers"] = _HEADERS[code]
        out[code] = entry
    return out


def _detail(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    for cls in type(exc).__mro__:
        if cls in _STATUS_BY_ERROR:
            return _detail(_STATUS_BY_ERROR[cls], str(exc))
    raise exc  # pragma: no cover - only registered classes reach this handler


async def _rate_limited(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)
    return _detail(429, str(exc), retry_after_header(exc.retry_after))


async def _auth_error(_request: Request, exc: Exception) -> JSONResponse:
    return _detail(401, str(exc) or "Not authenticated", BEARER)


def is_unavailable(exc: BaseException) -> bool:
    """Whether a database error means the database is unreachable (not a bad statement)."""
    if isinstance(exc, OperationalError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if is_unavailable(exc):
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc.__class__.__name__)
        return _detail(503, "Database unavailable", {"Retry-After": "5"})
    return await _unexpected(request, exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _detail(500, "Internal server error")


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method the API serves at `path` (Starlette's 405 names only the first route's)."""
    methods: set[str] = set()
    for template, operations in app.openapi().get("paths", {}).items():
        if compile_path(_with_convertors(template))[0].match(path):
            methods.update(m.upper() for m in operations if m.upper() in _HTTP_METHODS)
    return sorted(methods)


def _with_convertors(template: str) -> str:
    """The schema's `{company_id}` as the route declares it (`{company_id:company_id}`): a path
    parameter named after a registered convertor uses it, so `/api/companies/detect` is not an id."""
    for name in CONVERTOR_TYPES:
        if name not in _BUILTIN_CONVERTORS:
            template = template.replace("{" + name + "}", "{" + name + ":" + name + "}")
    return template


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405 and isinstance(request.app, FastAPI):
        allowed = allowed_methods(request.app, request.url.path)
        if allowed:
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
    return await http_exception_handler(request, exc)


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for cls in _STATUS_BY_ERROR:
        app.add_exception_handler(cls, _domain_error)
    app.add_exception_handler(AuthError, _auth_error)
    app.add_exception_handler(RateLimited, _rate_limited)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeout, _database_error)
    app.add_exception_handler(Exception, _unexpected)
