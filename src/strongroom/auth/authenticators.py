"""How a request proves who it is. A surface lists its authenticators; the front door asks each in
turn and the first that finds its credential in the request decides (none: the request is
unauthenticated)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from strongroom.auth.identity import Identity
from strongroom.auth.tokens import TokenRegistry

__all__ = [
    "Authenticator",
    "BearerToken",
    "HeaderToken",
    "NotRemembered",
    "Scope",
    "bearer_token",
    "from_memory",
]

Scope = Mapping[str, Any]  # the ASGI scope: headers are (lowercase name, value) byte pairs


class Authenticator(Protocol):
    def credential(self, scope: Scope) -> str | None:
        """The credential this request presents in this authenticator's form, or None (not mine).
        The audit log records its HMAC."""
        ...

    def identify(self, credential: str, scope: Scope) -> Identity:
        """The identity behind ``credential``; raises Unauthenticated when it is not valid."""
        ...


class NotRemembered(Exception):
    """Authenticating this request needs the store (which the event loop does not wait on)."""


def from_memory(authenticator: Authenticator, credential: str, scope: Scope) -> Identity:
    """What ``authenticator`` knows of ``credential`` without asking the store: a token this
    node remembers, a signature whose access key this request looked up already. An
    authenticator without ``remembered`` always needs the store."""
    remembered = getattr(authenticator, "remembered", None)
    found = remembered(credential, scope) if remembered is not None else None
    if found is None:
        raise NotRemembered
    assert isinstance(found, Identity)
    return found


def bearer_token(headers: Any) -> str | None:
    """``Authorization: Bearer <token>`` from ASGI headers."""
    for name, value in headers:
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            return str(value[7:].strip().decode("latin-1"))
    return None


class BearerToken:
    """A strongroom token as ``Authorization: Bearer``."""

    def __init__(self, registry: Callable[[], TokenRegistry]) -> None:
        self._registry = registry

    def credential(self, scope: Scope) -> str | None:
        return bearer_token(scope["headers"])

    def identify(self, credential: str, scope: Scope) -> Identity:
        return self._registry().authenticate(credential)

    def remembered(self, credential: str, scope: Scope) -> Identity | None:
        """``identify`` from this node's memory alone, or None (the store must be asked)."""
        return self._registry().remembered(credential)


class HeaderToken(BearerToken):
    """A strongroom token in a header of its own (``X-Strongroom-Token``; Vault's
    ``X-Vault-Token`` is the same rule with another name)."""

    def __init__(self, registry: Callable[[], TokenRegistry], header: str) -> None:
        super().__init__(registry)
        self._header = header.lower().encode("latin-1")

    def credential(self, scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name == self._header:
                return str(value.decode("latin-1"))
        return None
