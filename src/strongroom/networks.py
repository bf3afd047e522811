"""Address and CIDR lists given on the command line (trusted proxies, egress allow-lists)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from strongroom.errors import BadRequest

__all__ = ["Address", "Network", "parse_address", "parse_networks"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(cidrs: Sequence[str], option: str) -> tuple[Network, ...]:
    """Each entry an address or CIDR block; BadRequest names the ``option`` that was wrong."""
    networks: list[Network] = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            raise BadRequest(f"{option} {cidr!r} is not an address or CIDR") from None
    return tuple(networks)


def parse_address(text: str) -> Address | None:
    """An IP address (an IPv6 zone is dropped), or None."""
    try:
        return ipaddress.ip_address(text.strip().split("%")[0])
    except ValueError:
        return None
