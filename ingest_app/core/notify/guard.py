"""The crawler's address guard (core/crawl/netguard.py) for every delivery.

- The signed webhook goes through httpx with netguard's GuardedBackend: the host is resolved,
  every address checked, and the connection made to the checked address.
- Apprise plugins resolve hosts themselves. Delivery runs them in the calling thread
  (`async_mode=False`) inside `guarded_resolution()`, which checks every address that thread
  resolves (socket.getaddrinfo, used by requests/urllib3 and smtplib) before anything connects;
  plugins that talk over other transports (desktop, syslog, MQTT, IRC, XMPP, ...) are refused.

Loopback, private, link-local and other non-global addresses are refused unless
CRAWLER_ALLOW_PRIVATE_HOSTS is set (local demo and tests).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from ingest_app.core.crawl.netguard import BlockedAddress, GuardedBackend, address_allowed
from ingest_app.core.settings import get_settings

_real_getaddrinfo = socket.getaddrinfo
_state = threading.local()
_install_lock = threading.Lock()


class ResolutionBlocked(OSError):
    """Raised inside a plugin's resolution; the plugin fails and delivery reports the block."""


def _checked_getaddrinfo(host, port, *args, **kwargs):
    infos = _real_getaddrinfo(host, port, *args, **kwargs)
    if getattr(_state, "active", False) and not get_settings().crawler_allow_private_hosts:
        for info in infos:
            address = str(info[4][0])
            if not address_allowed(address):
                _state.blocked = BlockedAddress(str(host), address)
                raise ResolutionBlocked(str(_state.blocked))
    return infos


def _install() -> None:
    with _install_lock:
        if socket.getaddrinfo is not _checked_getaddrinfo:
            socket.getaddrinfo = _checked_getaddrinfo  # a pass-through for every other thread


@contextmanager
def guarded_resolution() -> Iterator[threading.local]:
    """Within this block, this thread's name resolutions refuse non-global addresses; after it,
    `.blocked` holds the BlockedAddress that stopped a connection (or None)."""
    _install()
    _state.active, _state.blocked = True, None
    try:
        yield _state
    finally:
        _state.active = False


def check_address(host: str, port: int) -> None:
    """Resolve `host` and refuse it (BlockedAddress) unless every address is public; no connection."""
    if get_settings().crawler_allow_private_hosts:
        return
    for info in _real_getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if not address_allowed(str(info[4][0])):
            raise BlockedAddress(host, str(info[4][0]))


def webhook_client(timeout: float) -> httpx.Client:
    """An httpx client whose every connection passes netguard (no redirects followed)."""
    transport = httpx.HTTPTransport(retries=0)
    transport._pool._network_backend = GuardedBackend()  # the only way in without re-creating the pool
    return httpx.Client(transport=transport, timeout=httpx.Timeout(timeout), follow_redirects=False)
