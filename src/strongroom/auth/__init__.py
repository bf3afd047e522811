"""Authentication: tokens, AppRole machine identities, userpass, lockout and rate limits."""

from strongroom.auth.identity import Identity
from strongroom.auth.tokens import TokenInfo, TokenRegistry

__all__ = ["Identity", "TokenInfo", "TokenRegistry"]
