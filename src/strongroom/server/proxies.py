"""The client's address: from the socket, unless the operator names trusted proxies.

``X-Forwarded-For`` is something a client says about itself; believing it from anyone would let
a caller pick the address that AppRole CIDR binding, the rate limiter and the audit log see. So
it is read only when the socket peer is a proxy the operator trusts (``--trusted-proxy CIDR``),
and then the address used is the nearest one in the header that is not itself a trusted proxy
(the hop that connected to the first trusted proxy)."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import Scope

from strongroom.networks import parse_address, parse_networks

__all__ = ["MAX_FORWARDED_HOPS", "TrustedProxies"]

MAX_FORWARDED_HOPS = 32


class TrustedProxies:
    def __init__(self, cidrs: Sequence[str] = ()) -> None:
        self._networks = parse_networks(cidrs, "--trusted-proxy")

    def __bool__(self) -> bool:
        return bool(self._networks)

    def _trusted(self, text: str) -> bool:
        address = parse_address(text)
        return address is not None and any(address in net for net in self._networks)

    def apply(self, scope: Scope) -> None:
        """Replace ``scope["client"]`` with the forwarded client when the peer is trusted."""
        client = scope.get("client")
        if not self._networks or not client or not self._trusted(str(client[0])):
            return
        hops: list[str] = []
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                hops.extend(value.decode("latin-1").split(","))
        for hop in reversed(hops[-MAX_FORWARDED_HOPS:]):
            if not self._trusted(hop):
                if parse_address(hop) is not None:
                    scope["client"] = (hop.strip(), 0)
                return
        # Every hop is a trusted proxy (or there is no header): the peer is the client.
