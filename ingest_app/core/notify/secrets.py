"""Channel URLs and webhook secrets at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256)
under a key derived from CHANNEL_SECRET_KEY (default: JWT_SECRET); shown only masked."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken

from ingest_app.core.notify import NotifyError
from ingest_app.core.settings import get_settings


def _fernet() -> Fernet:
    settings = get_settings()
    secret = settings.channel_secret_key or settings.jwt_secret
    if not secret:
        raise NotifyError("CHANNEL_SECRET_KEY is not set: channel secrets cannot be read")
    key = hashlib.sha256(b"job-ingest channel secrets\x00" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise NotifyError("this channel was saved under another CHANNEL_SECRET_KEY; add it again") from None


def mask_url(url: str) -> str:
    """What the API and UI show of a channel URL: the scheme and the host, nothing secret.

    A host without a dot is often a token (slack://TOKEN/...): only its first 3 characters."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "****"
    if "." not in host and ":" not in host:
        host = host[:3] + "…" if len(host) > 3 else host
    shown = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
    hidden = bool(parts.username or parts.password or parts.path.strip("/") or parts.query or parts.fragment)
    return (shown + "/****" if hidden else shown)[:300]


def redact(text: str, url: str, *extra: str) -> str:
    """`text` without any secret part of `url` (userinfo, path segments, query values)."""
    try:
        parts = urlsplit(url)
        pieces = [parts.username or "", parts.password or "", *parts.path.split("/")]
        pieces += [kv.partition("=")[2] for kv in parts.query.split("&")]
    except ValueError:
        pieces = []
    text = text.replace(url, mask_url(url))
    for piece in sorted({p for p in (*pieces, *extra) if p and len(p) >= 4}, key=len, reverse=True):
        text = text.replace(piece, "****")
    return text
