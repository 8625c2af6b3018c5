"""The address guard: every connection resolves the host, refuses non-global addresses (unless
`CRAWLER_ALLOW_PRIVATE_HOSTS`), then connects to the very address it checked, so DNS cannot
change the answer in between. TLS still uses the URL's host for SNI and certificate checks
(httpcore passes the origin host to start_tls)."""

from __future__ import annotations

import ipaddress
import socket

import httpcore

from ingest_app.core.crawl import deadline
from ingest_app.core.settings import get_settings


class BlockedAddress(Exception):
    def __init__(self, host: str, address: str):
        super().__init__(f"{host} resolves to a non-public address ({address})")
        self.host = host
        self.address = address


_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix: reaches the embedded IPv4
# Ranges Python's `is_global` (3.11) still calls global but no public site lives in.
_DENY = tuple(
    ipaddress.ip_network(n)
    for n in (
        "fec0::/10",  # site-local (deprecated by RFC 3879, still routed inside some networks)
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # SRv6 SIDs (RFC 9602)
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "2001:db8::/32",  # documentation
        "100::/64",  # discard-only
    )
)


def address_allowed(address: str) -> bool:
    """Only globally routable unicast addresses; IPv6 forms that embed an IPv4 address (mapped,
    NAT64, 6to4, Teredo) are judged by the IPv4 address they reach."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64:  # a NAT64 gateway connects to the IPv4 address in the last 32 bits
            return address_allowed(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
        if any(ip in net for net in _DENY):
            return False
        embedded = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        if any(e is not None and not address_allowed(str(e)) for e in embedded):
            return False
        if ip.ipv4_mapped is not None:
            return True
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


class UnknownHost(Exception):
    """The host name does not resolve (NXDOMAIN): final, unlike a flaky network."""


def _left(timeout: float | None, what: str) -> float | None:
    timeout = deadline.clamp(timeout)
    if timeout is not None and timeout <= 0:
        raise (httpcore.ConnectTimeout if what == "connect" else httpcore.ReadTimeout)("the crawl deadline passed")
    return timeout


class DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read, write and TLS handshake ends by the crawl deadline of the
    thread using it (a pooled keep-alive connection serves several fetches, each its own)."""

    def __init__(self, stream: httpcore.NetworkStream):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout, "read"))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout, "write"))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        return DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, _left(timeout, "connect")))

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


def allowed_addresses(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, every one of them allowed (or CRAWLER_ALLOW_PRIVATE_HOSTS);
    raises UnknownHost, BlockedAddress, or httpcore.ConnectError when resolving fails otherwise."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError:
        raise UnknownHost(host) from None
    except socket.gaierror as exc:
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            raise UnknownHost(host) from None
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not get_settings().crawler_allow_private_hosts:
        for address in addresses:
            if not address_allowed(address):
                raise BlockedAddress(host, address)
    return addresses


class GuardedBackend(httpcore.SyncBackend):
    """Resolves, validates, then connects to the validated IP. TLS still uses the URL's host
    for SNI and certificate checks (httpcore passes the origin host to start_tls)."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        last: Exception | None = None
        for address in allowed_addresses(host, port):
            try:
                stream = super().connect_tcp(address, port, _left(timeout, "connect"), local_address, socket_options)
                return DeadlineStream(stream)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"no address for {host}")
