"""Where the server may connect out to on a caller's behalf (webhook rotators, notifications,
database rotators): resolve once, check every address, then connect to the checked address.

A configuration written through the API names a host; without this rule a caller could make the
server reach its own loopback, the cloud metadata service or anything on the private network,
and learn about it from status codes and timings (server-side request forgery). So a host is
resolved here, every address it resolves to must be public, or inside a CIDR the operator
allowed (``--egress-allow``), and the connection is made to the address that was checked, so a
second DNS answer cannot swap it (DNS rebinding). Numeric forms such as ``0x7f000001`` or
``2130706433`` are addresses like any other after resolution."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from strongroom.errors import BadRequest
from strongroom.networks import Address, parse_address, parse_networks

__all__ = ["EgressPolicy", "EgressRefused", "Target", "check_url"]


class EgressRefused(BadRequest):
    """The server will not connect there; the message does not say what is there."""

    code = "egress_refused"


@dataclass(frozen=True)
class Target:
    host: str  # as configured: for the Host header and TLS server name
    address: str  # the checked address to connect to
    port: int


def _public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


class EgressPolicy:
    def __init__(self, allow: Sequence[str] = ()) -> None:
        self._allowed = parse_networks(allow, "--egress-allow")

    def permits(self, address: Address) -> bool:
        return _public(address) or any(address in network for network in self._allowed)

    def resolve(self, host: str, port: int) -> Target:
        """The one address to connect to for ``host``, or EgressRefused."""
        refused = EgressRefused(
            f"the server will not connect to {host!r}: it is not a public address and no "
            "--egress-allow CIDR covers it"
        )
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise EgressRefused(f"cannot resolve {host!r}") from None
        found = [parse_address(str(info[4][0])) for info in infos]
        addresses = [a for a in found if a is not None]
        if not addresses or len(addresses) != len(found) or not all(map(self.permits, addresses)):
            raise refused
        return Target(host, str(addresses[0]), port)


def check_url(url: object, what: str) -> str:
    """An http(s) URL of a bounded length, as configured (where it may lead is checked when the
    server connects, by EgressPolicy.resolve)."""
    if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 2048:
        raise BadRequest(f"{what} must be an http(s) URL of at most 2048 characters")
    return url
