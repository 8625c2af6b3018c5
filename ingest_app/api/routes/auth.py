"""Accounts: register, sign in (OAuth2 password form or JSON), who am I."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ingest_app.api import ratelimit
from ingest_app.api.deps import ClientAddress, CurrentUser, SessionDep
from ingest_app.api.errors import BEARER, responses
from ingest_app.api.schemas import Credentials, PasswordForm, RegisterIn, TokenOut, UserOut
from ingest_app.core.security import create_access_token
from ingest_app.core.settings import get_settings
from ingest_app.core.users import authenticate, create_user

router = APIRouter(tags=["auth"])

WRONG_CREDENTIALS = "Incorrect email or password"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _validate(model: type[PasswordForm] | type[Credentials], data: Any) -> Credentials:
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError([{**err, "loc": ("body", *err["loc"])} for err in errors]) from None
    if isinstance(parsed, PasswordForm):
        return Credentials(email=parsed.username, password=parsed.password)
    return parsed


async def read_credentials(request: Request) -> Credentials:
    """Email and password from an OAuth2 password form (`username`) or a JSON body (`email`)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            data = await request.json()
        except ValueError as exc:
            raise HTTPException(422, "The request body is not valid JSON") from exc
        return _validate(Credentials, data)
    if content_type in _FORM_TYPES:
        try:
            form = await request.form(max_files=0, max_fields=20)
        except StarletteHTTPException as exc:  # the multipart parser's 400
            raise HTTPException(422, f"Malformed form: {exc.detail}") from exc
        return _validate(PasswordForm, {k: v for k, v in form.items() if isinstance(v, str)})
    raise HTTPException(415, "Send the credentials as application/x-www-form-urlencoded or application/json")


def _schema(model: type[PasswordForm] | type[Credentials]) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema.pop("title", None)
    return schema


_TOKEN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": _schema(PasswordForm)},
            "application/json": {"schema": _schema(Credentials)},
        },
    }
}


def _too_many(wait: float) -> HTTPException:
    return HTTPException(429, "Too many sign-in attempts; try again later", ratelimit.retry_after_header(wait))


@router.post(
    "/api/auth/token",
    response_model=TokenOut,
    summary="Sign in: exchange email and password for a bearer token",
    responses=responses(400, 401, 415, 422, 429, d401="Incorrect email or password"),
    openapi_extra=_TOKEN_BODY,
)
def issue_token(
    credentials: Annotated[Credentials, Depends(read_credentials)], session: SessionDep, address: ClientAddress
) -> TokenOut:
    settings = get_settings()
    email_key = credentials.email.strip().lower()
    by_email = {"limit": settings.login_rate_limit_per_email, "window": settings.login_rate_window_seconds}
    by_address = {"limit": settings.login_rate_limit_per_address, "window": settings.login_rate_window_seconds}
    wait = max(
        ratelimit.login_by_email.check(email_key, **by_email),
        ratelimit.login_by_address.check(address, **by_address),
    )
    if wait:
        raise _too_many(wait)
    ratelimit.login_by_email.hit(email_key, **by_email)
    ratelimit.login_by_address.hit(address, **by_address)
    user = authenticate(session, email=credentials.email, password=credentials.password)
    if user is None:
        raise HTTPException(401, WRONG_CREDENTIALS, BEARER)
    token = create_access_token(user.id)
    return TokenOut(access_token=token.access_token, token_type="bearer", expires_in=token.expires_in)


@router.post(
    "/api/auth/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    summary="Create an account",
    responses=responses(400, 409, 422, 429),
)
def register(body: RegisterIn, session: SessionDep, address: ClientAddress) -> UserOut:
    settings = get_settings()
    wait = ratelimit.register_by_address.hit(
        address, limit=settings.register_rate_limit_per_address, window=settings.register_rate_window_seconds
    )
    if wait:
        raise HTTPException(
            429, "Too many registrations from this address; try again later", ratelimit.retry_after_header(wait)
        )
    user = create_user(session, email=body.email, password=body.password)
    return UserOut.model_validate(user)


@router.get("/api/me", response_model=UserOut, summary="The signed-in user", responses=responses(401))
def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)
