"""Listing and search of secret paths: one level, recursive pages with opaque cursors, and search
by name and custom metadata. A caller sees only the paths it may read or list, and no cursor,
count or page tells it anything about the others."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping

from strongroom.auth import Identity
from strongroom.cursors import Cursors
from strongroom.errors import NoSuchNamespace, NotFound
from strongroom.keys import Keyrings
from strongroom.limits import Limits
from strongroom.paths import check_namespace, check_prefix
from strongroom.policy.kv import METADATA, kv1_policy_path, kv_policy_path, v1_only
from strongroom.store.protocol import Store

__all__ = ["SCAN_BUDGET_PAGES", "ListingService"]

# A listing or search reads at most this many store pages per request; past that it answers with
# what it found and a cursor, so a caller who may see little of a big namespace pages through it
# instead of making one request scan all of it.
SCAN_BUDGET_PAGES = 10


class ListingService:
    def __init__(
        self,
        store: Store,
        keyrings: Keyrings,
        limits: Limits,
        cursors: Cursors,
        kind_of: Callable[[str], str | None] = lambda namespace: "kv-v2",
    ) -> None:
        self._kind_of = kind_of
        self._store = store
        self._keyrings = keyrings
        self.limits = limits
        self._cursors = cursors

    def _scope(self, identity: Identity, capability: str, namespace: str, prefix: str) -> str:
        check_namespace(namespace, self.limits)
        base = check_prefix(prefix, self.limits)
        folder = base + "/" if base else ""
        identity.require(capability, kv_policy_path(namespace, METADATA, folder))
        kind = self._kind_of(namespace)
        if kind == "kv-v1":
            raise NotFound(v1_only(namespace))
        if kind not in ("kv-v2", None):
            raise NotFound(f"{namespace} is not a KV mount")
        self._keyrings.get(namespace)
        return folder

    def list_keys(self, identity: Identity, namespace: str, prefix: str = "") -> list[str]:
        """One level under ``prefix``: names, with a trailing '/' for folders (Vault's shape)."""
        base = self._scope(identity, "list", namespace, prefix)
        return self._one_level(namespace, base, lambda p: identity.can_see_secret(namespace, p))

    def list_keys_v1(self, identity: Identity, namespace: str, prefix: str = "") -> list[str]:
        """``list_keys`` on a KV version 1 mount, whose policy paths are ``<mount>/<path>``: the
        folder needs ``list``; a name shows when the caller may read or list it."""
        check_namespace(namespace, self.limits)
        base = check_prefix(prefix, self.limits)
        folder = base + "/" if base else ""
        identity.require("list", kv1_policy_path(namespace, folder))
        kind = self._kind_of(namespace)
        if kind != "kv-v1":
            raise (NoSuchNamespace if kind is None else NotFound)(
                f"{namespace} is not a KV version 1 mount"
            )
        return self._one_level(
            namespace, folder, lambda p: identity.can_see(kv1_policy_path(namespace, p))
        )

    def _one_level(self, namespace: str, base: str, visible: Callable[[str], bool]) -> list[str]:
        keys: list[str] = []
        after = ""
        while True:
            page = self._store.scan_paths(namespace, base, after, self.limits.max_list_page)
            if not page:
                return keys
            for path in page:
                rest = path[len(base) :]
                head, slash, _ = rest.partition("/")
                if slash:
                    if visible(f"{base}{head}/"):
                        keys.append(head + "/")
                    after = base + head + "/\U0010ffff"  # skip the rest of this folder
                    break
                if visible(path):
                    keys.append(head)
                after = path
            else:
                if len(page) < self.limits.max_list_page:
                    return keys

    def list_recursive(
        self,
        identity: Identity,
        namespace: str,
        prefix: str = "",
        *,
        after: str = "",
        limit: int = 1000,
    ) -> tuple[list[str], str]:
        """Every secret path under ``prefix`` that the caller may see, a page at a time; returns
        the page and an opaque cursor for the next one ("" at the end)."""
        base = self._scope(identity, "list", namespace, prefix)
        limit = max(1, min(limit, self.limits.max_list_page))
        scope = f"list:{namespace}/{base}"
        position = self._cursors.read(scope, after)
        found: list[str] = []
        budget = SCAN_BUDGET_PAGES
        while budget > 0:
            budget -= 1
            page = self._store.scan_paths(namespace, base, position, self.limits.max_list_page)
            for path in page:
                position = path
                # Only what the caller may read or list: a listing must not leak other paths.
                if identity.can_see_secret(namespace, path):
                    found.append(path)
                    if len(found) == limit:
                        return found, self._cursors.make(scope, position)
            if len(page) < self.limits.max_list_page:
                return found, ""
        return found, self._cursors.make(scope, position)

    def search(
        self,
        identity: Identity,
        namespace: str,
        *,
        prefix: str = "",
        name: str = "",
        metadata: Mapping[str, str] | None = None,
        limit: int = 1000,
        after: str = "",
    ) -> tuple[list[str], str]:
        """Paths under ``prefix`` whose path matches ``name`` (a glob if it has * ? [, else a
        case-insensitive substring) and whose custom metadata has every pair of ``metadata``; a
        page at a time, with an opaque cursor for the next page ("" at the end)."""
        base = self._scope(identity, "list", namespace, prefix)
        limit = max(1, min(limit, self.limits.max_list_page))
        wanted = dict(metadata or {})
        is_glob = any(c in name for c in "*?[")
        scope = f"search:{namespace}/{base}"
        position = self._cursors.read(scope, after) or (base[:-1] if base else "")
        found: list[str] = []
        for _ in range(SCAN_BUDGET_PAGES):
            page = self._store.scan_secrets(namespace, position, self.limits.max_list_page)
            for secret in page:
                position = secret.path
                if not secret.path.startswith(base):
                    if secret.path > base + "\U0010ffff":
                        return found, ""
                    continue
                if name and not (
                    fnmatch.fnmatchcase(secret.path, name)
                    if is_glob
                    else name.lower() in secret.path.lower()
                ):
                    continue
                if not identity.can_see_secret(namespace, secret.path):
                    continue
                custom = secret.settings.get("custom_metadata", {})
                if all(custom.get(k) == v for k, v in wanted.items()):
                    found.append(secret.path)
                    if len(found) >= limit:
                        return found, self._cursors.make(scope, position)
            if len(page) < self.limits.max_list_page:
                return found, ""
        return found, self._cursors.make(scope, position)
