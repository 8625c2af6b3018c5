"""The address guard: every connection resolves the host, refuses non-global addresses (unless
`CRAWLER_ALLOW_PRIVATE_HOSTS`), then connects to the very address it checked, so DNS cannot
change the answer in between. TLS still uses the URL's host for SNI and certificate checks
(httpcore passes the origin host to start_tls)."""

from __future__ import annotations

import ipaddress
import socket

import httpcore

from ingest_app.core.settings import get_settings


class BlockedAddress(Exception):
    def __init__(self, host: str, address: str):
        super().__init__(f"{host} resolves to a non-public address ({address})")
        self.host = host
        self.address = address


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def address_allowed(address: str) -> bool:
    """Only globally routable unicast addresses; IPv6 forms that embed an IPv4 address (mapped,
    NAT64, 6to4, Teredo) are judged by the IPv4 address they reach."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if any(e is not None and not address_allowed(str(e)) for e in embedded):
            return False
        if ip.ipv4_mapped is not None:
            return True
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


class UnknownHost(Exception):
    """The host name does not resolve (NXDOMAIN): final, unlike a flaky network."""


class GuardedBackend(httpcore.SyncBackend):
    """Resolves, validates, then connects to the validated IP. TLS still uses the URL's host
    for SNI and certificate checks (httpcore passes the origin host to start_tls)."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
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
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"no address for {host}")
