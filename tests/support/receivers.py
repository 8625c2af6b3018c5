"""Real receivers for digests on 127.0.0.1: an SMTP server (aiosmtpd), a webhook endpoint that
verifies the HMAC signature, and a bare listener that counts connection attempts."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.support.fixture_server import FixtureServer, Handler


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mailbox:
    port: int
    messages: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def url(self, to: str = "ada@example.com") -> str:
        return f"mailto://127.0.0.1:{self.port}?from=digest@example.com&to={to}&mode=insecure"

    def bodies(self) -> list[str]:
        return [m.get_body(preferencelist=("plain", "html")).get_content() for m in self.messages]


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    box = Mailbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class WebhookReceiver:
    """`POST /hooks/digest` on the fixture server, checking each delivery's HMAC signature."""

    secret: str
    port: int
    status: int = 204
    received: list[dict[str, Any]] = field(default_factory=list)
    server: FixtureServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/digest"

    def start(self) -> None:
        self.server = FixtureServer(port=self.port)
        self.server.add("/hooks/digest", self._receive)

    def _receive(self, h: Handler) -> None:
        body = h.body
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        signature = h.headers.get("X-Ingest-Signature-256") or ""
        self.received.append(
            {
                "verified": hmac.compare_digest(expected, signature),
                "event": h.headers.get("X-Ingest-Event"),
                "delivery": h.headers.get("X-Ingest-Delivery"),
                "payload": json.loads(body),
                "raw": body,
                "signature": signature,
            }
        )
        h.send_response(self.status)
        h.send_header("Content-Length", "0")
        h.end_headers()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    """A receiver on a reserved port, not yet listening: call .start() to bring it up."""
    receiver = WebhookReceiver(secret="s3cret-signing-key-0123456789", port=free_port())
    try:
        yield receiver
    finally:
        receiver.stop()


@dataclass
class Listener:
    port: int
    accepted: int = 0


@pytest.fixture
def counting_listener() -> Iterator[Listener]:
    """A TCP listener on 127.0.0.1 that counts every connection made to it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    listener = Listener(port=sock.getsockname()[1])
    stop = threading.Event()

    def _accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except (TimeoutError, OSError):
                continue
            listener.accepted += 1
            conn.close()

    thread = threading.Thread(target=_accept, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        stop.set()
        thread.join(5)
        sock.close()
