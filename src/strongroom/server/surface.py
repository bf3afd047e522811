"""A surface is data: a name, how a request is recognised as its own, its authenticators, how it
renders answers and errors, and its route table. The front door does the rest."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from strongroom.auth.authenticators import Authenticator
from strongroom.errors import StrongroomError
from strongroom.server.routes import Answer, Route, Router
from strongroom.server.services import Services

__all__ = ["Rendered", "Reroute", "Rerouted", "Scope", "Surface"]

Scope = Mapping[str, Any]
Rerouted = tuple[Route, dict[str, str]]  # the route and its parameters
Reroute = Callable[[Route, Mapping[str, str], str, Services, bool], Rerouted | None]


@dataclass(slots=True)
class Rendered:
    """An answer in wire form."""

    status: int
    body: bytes = field(default=b"", repr=False)
    headers: tuple[tuple[bytes, bytes], ...] = ()


@dataclass(frozen=True)
class Surface:
    name: str
    claims: Callable[[Scope], bool]
    routes: Sequence[Route]
    render: Callable[[Answer], Rendered]
    render_error: Callable[[StrongroomError, str], Rendered]  # (error, request id)
    authenticators: Sequence[Authenticator] = ()
    # The request's method as this surface reads it (Vault: GET ?list=true is LIST); None: as sent.
    method: Callable[[Scope], str] | None = None
    # The request's path as this surface routes it (AWS: POST / with X-Amz-Target: kms.Encrypt
    # routes as /kms.Encrypt); None: as sent.
    path: Callable[[Scope], str] | None = None
    # Set when its authenticators need the body (SigV4 signs it): this check runs first, on the
    # request without its body, and returns the refusal for a request that cannot authenticate
    # (no signature, a malformed one, an unknown key); only a request it passes has its body read
    # (bounded in size and in how many are read at once) and handed to the authenticators as
    # scope["strongroom.body"].
    signs_body: Callable[[Scope], StrongroomError | None] | None = None
    # The route that really serves a request, decided once its caller is authenticated, from what
    # the path alone cannot tell (Vault: a version 2 path under a KV version 1 mount is version
    # 1's); None keeps the route matched. Called as (route, params, path, services,
    # may_read_store): without may_read_store it raises NotRemembered where it would read the
    # store. The route it gives is the one audited, authorized and run.
    reroute: Callable[[Route, Mapping[str, str], str, Services, bool], Rerouted | None] | None = (
        None
    )
    router: Router = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "router", Router(self.routes))
