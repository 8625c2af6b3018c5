"""Sending one message to one channel: an Apprise URL, or our signed webhook.

The webhook body is JSON; `X-Ingest-Signature-256: sha256=<hex>` is the HMAC-SHA256 of the exact
body bytes under the channel's secret (verify it with a constant-time compare), next to
`X-Ingest-Event` (digest | test) and `X-Ingest-Delivery` (the delivery id: the same id again
means the same digest, so a receiver can drop a repeat).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from ingest_app.core.crawl.netguard import BlockedAddress, UnknownHost
from ingest_app.core.notify import NotifyError
from ingest_app.core.notify.channels import apprise_plugin
from ingest_app.core.notify.guard import guarded_resolution, webhook_client
from ingest_app.core.notify.secrets import redact
from ingest_app.core.settings import get_settings

SIGNATURE_HEADER = "X-Ingest-Signature-256"
EVENT_HEADER = "X-Ingest-Event"
DELIVERY_HEADER = "X-Ingest-Delivery"
MAX_REASON = 500


class DeliveryFailed(Exception):
    """Why a message did not go out; `permanent` ones are not retried (a refused address, a 4xx)."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason[:MAX_REASON])
        self.reason = reason[:MAX_REASON]
        self.permanent = permanent


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    payload: dict[str, Any]
    event: str
    delivery_id: int


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(url: str, secret: str, message: Message) -> None:
    body = json.dumps(message.payload, separators=(",", ":"), sort_keys=True, default=str).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": get_settings().user_agent,
        SIGNATURE_HEADER: sign(secret, body),
        EVENT_HEADER: message.event,
        DELIVERY_HEADER: str(message.delivery_id),
    }
    try:
        with webhook_client(get_settings().notify_timeout_seconds) as client:
            response = client.post(url, content=body, headers=headers)
    except BlockedAddress as exc:
        raise DeliveryFailed(f"blocked_host: {exc}", permanent=True) from None
    except UnknownHost as exc:
        raise DeliveryFailed(f"unknown_host: {exc} does not resolve") from None
    except httpx.TimeoutException:
        raise DeliveryFailed("timeout: the webhook did not answer in time") from None
    except httpx.HTTPError as exc:
        raise DeliveryFailed(redact(f"connection_error: {type(exc).__name__}: {exc}", url)) from None
    if 200 <= response.status_code < 300:
        return
    transient = response.status_code >= 500 or response.status_code in (408, 425, 429)
    raise DeliveryFailed(
        f"http_{response.status_code}: the webhook answered {response.status_code}", permanent=not transient
    )


class _Redact(logging.Filter):
    """On the apprise logger while a channel is used: its URL's secrets never reach a log."""

    def __init__(self, url: str):
        super().__init__()
        self.url = url

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage(), self.url), ()
        return True


# Apprise's debug output prints request URLs (tokens in paths included): keep it to warnings.
logging.getLogger("apprise").setLevel(logging.WARNING)


def send_apprise(url: str, message: Message) -> None:
    import apprise

    try:
        plugin = apprise_plugin(url, timeout=get_settings().notify_timeout_seconds)
    except NotifyError as exc:
        raise DeliveryFailed(str(exc), permanent=True) from None
    redacting = _Redact(url)
    apprise_log = logging.getLogger("apprise")
    apprise_log.addFilter(redacting)
    try:
        _notify(apprise, plugin, url, message)
    finally:
        apprise_log.removeFilter(redacting)


def _notify(apprise: Any, plugin: Any, url: str, message: Message) -> None:
    with guarded_resolution() as guard, apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as logs:
        try:
            ok = plugin.notify(title=message.title, body=message.body)
        except Exception as exc:  # a plugin bug must not stop the tick
            ok = False
            logs.write(f"{type(exc).__name__}: {exc}\n")
    if guard.blocked is not None:
        raise DeliveryFailed(f"blocked_host: {guard.blocked}", permanent=True)
    if not ok:
        lines = [line.strip() for line in logs.getvalue().splitlines() if line.strip()]
        reason = " · ".join(lines[-2:]) or "the service refused the notification"
        raise DeliveryFailed(redact(reason, url))


def send(kind: str, url: str, secret: str | None, message: Message) -> None:
    if kind == "webhook":
        send_webhook(url, secret or "", message)
    else:
        send_apprise(url, message)
