"""A token's entity id: who logged in, the same for every token one login identity gets (Vault's
entity). When an identity alias names the login (its mount and the login's name for the caller),
it is that alias's stored entity (auth/identity_store.py). Otherwise it is derived from where the
token was issued (the login path, which names the mount) and the login's own name for the caller
(the AppRole role, the userpass user, the JWT's user claim, the service account), so it is
stable across logins and differs between mounts; no entity is stored at login. A token made by
``auth/token/create`` has none, as in Vault."""

from __future__ import annotations

import uuid

from strongroom.auth.tokens import TokenInfo

__all__ = ["entity_id"]

# A fixed namespace for the version 5 UUIDs (changing it changes every entity id)
_ENTITIES = uuid.UUID("5b0d7c55-5f37-4c35-9a9b-6f1e1d2f4a10")


def entity_id(info: TokenInfo) -> str:
    if info.entity:
        return info.entity  # a stored entity, which an identity alias named at login
    if not info.path.startswith("auth/") or info.path.startswith("auth/token/"):
        return ""
    # The display name, which the login sets; never the token's metadata, which callers write
    # (an AppRole secret ID's, a JWT role's claim mappings) and could name another entity.
    return str(uuid.uuid5(_ENTITIES, f"{info.path}\n{info.display_name}"))
