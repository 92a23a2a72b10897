"""Where this service may send requests to on a user's word (a CalDAV server, a
webhook receiver): by default only the public internet. A user-given address could
otherwise make the service probe or post into the network it runs in (SSRF).

A host name is resolved and every address it has must be allowed; the caller checks
each connection's real address again just before a request goes out on it (a name
that resolves differently the second time gains nothing) and follows no redirects.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class RefusedTarget(Exception):
    """The address leads somewhere this service must not send requests to."""


def is_public(address: str) -> bool:
    """A globally routable unicast address: not loopback, private, link-local,
    shared (100.64/10), reserved, multicast or unspecified; IPv4 inside IPv6 counts
    as the IPv4 address it carries."""
    ip = _ip(address)
    return ip.is_global and not ip.is_multicast


def is_allowed(address: str, allowed: Iterable[Network] = ()) -> bool:
    """Public, or inside one of the networks an operator allowed."""
    return is_public(address) or any(_ip(address) in network for network in allowed)


def parse_networks(text: str) -> list[Network]:
    """Comma-separated addresses or networks ("127.0.0.1, 10.0.0.0/8, ::1"); a bad
    one raises ValueError naming it."""
    return [
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    ]


async def check_public(url: str, allowed: Iterable[Network] = ()) -> None:
    """Resolve the URL's host and refuse it unless every address it has is public
    (or inside ``allowed``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedTarget(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, port, type=socket.SOCK_STREAM
        )
    except OSError as exc:
        raise RefusedTarget(url) from exc
    networks = list(allowed)
    if not found or not all(is_allowed(str(info[4][0]), networks) for info in found):
        raise RefusedTarget(url)


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip
