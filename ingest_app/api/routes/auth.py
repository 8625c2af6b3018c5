"""Accounts: register, sign in (OAuth2 password form or JSON), sign out, who am I; the UI's
session cookie."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ingest_app.accounts.security import AuthError, issue_token_for, revoke_tokens, user_from_token
from ingest_app.accounts.users import normalize_email, register, sign_in
from ingest_app.api.deps import ClientAddress, CurrentUser, SessionDep, TokenDep
from ingest_app.api.errors import BEARER, responses
from ingest_app.api.schemas import Credentials, MessageOut, PasswordForm, RegisteredOut, RegisterIn, TokenOut, UserOut
from ingest_app.core.settings import get_settings

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
            if exc.status_code == 413:  # the body cap
                raise
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


@router.post(
    "/api/auth/token",
    response_model=TokenOut,
    summary="Sign in: exchange email and password for a bearer token",
    responses=responses(400, 401, 413, 415, 422, 429, d401="Incorrect email or password"),
    openapi_extra=_TOKEN_BODY,
)
def issue_token(
    credentials: Annotated[Credentials, Depends(read_credentials)], session: SessionDep, address: ClientAddress
) -> TokenOut:
    user = sign_in(session, email=credentials.email, password=credentials.password, address=address)
    if user is None:
        raise HTTPException(401, WRONG_CREDENTIALS, BEARER)
    token = issue_token_for(user)
    return TokenOut(access_token=token.access_token, token_type="bearer", expires_in=token.expires_in)


REGISTERED = "If this email had no account, it has one now; sign in with POST /api/auth/token"


@router.post(
    "/api/auth/register",
    status_code=status.HTTP_201_CREATED,
    response_model=RegisteredOut,
    summary="Create an account",
    description="The answer is the same whether or not the email already had an account, so it tells nobody "
    "which emails are registered; sign in to use the account.",
    responses=responses(400, 413, 422, 429),
)
def register_account(body: RegisterIn, session: SessionDep, address: ClientAddress) -> RegisteredOut:
    register(session, email=body.email, password=body.password, address=address)
    return RegisteredOut(email=normalize_email(body.email), message=REGISTERED)


@router.post(
    "/api/auth/logout",
    response_model=MessageOut,
    summary="Sign out: revoke every token of the signed-in user",
    responses=responses(401),
)
def logout(session: SessionDep, user: CurrentUser, response: Response) -> MessageOut:
    revoke_tokens(session, user.id)
    _clear_session_cookie(response)
    return MessageOut(message="Signed out; every token of this account is revoked")


# --- the UI's session cookie ---------------------------------------------------------------------
# The UI's websocket carries only the (proxy-visible) client token in its URL. The UI's session is
# bound to this HttpOnly cookie instead: the browser sends it with the websocket handshake, page
# scripts cannot read it, and it never appears in a URL. The UI sets it right after signing in by
# calling this route with the new token as a bearer header (which a cross-site form cannot send).


def _set_session_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(
        get_settings().session_cookie_name,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )


def _clear_session_cookie(response: Response) -> None:
    response.delete_cookie(get_settings().session_cookie_name, path="/", httponly=True, samesite="strict")


@router.post(
    "/api/auth/session",
    response_model=MessageOut,
    summary="Keep the bearer token as the UI's HttpOnly session cookie",
    responses=responses(401),
)
def open_session(session: SessionDep, token: TokenDep, request: Request, response: Response) -> MessageOut:
    if not token:
        raise AuthError("Not authenticated")
    user_from_token(session, token)
    _set_session_cookie(response, request, token, get_settings().jwt_expire_minutes * 60)
    return MessageOut(message="Session cookie set")


@router.delete(
    "/api/auth/session", response_model=MessageOut, summary="Forget the UI's session cookie", responses=responses()
)
def close_session(response: Response) -> MessageOut:
    _clear_session_cookie(response)
    return MessageOut(message="Session cookie cleared")


@router.get("/api/me", response_model=UserOut, summary="The signed-in user", responses=responses(401))
def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)
