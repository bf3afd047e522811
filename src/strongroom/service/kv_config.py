"""A KV mount's settings (Vault's ``<mount>/config``): defaults for every secret under it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from strongroom.store.protocol import Store
from strongroom.store.records import Records

__all__ = ["KV_CONFIG_KIND", "KvConfig", "effective_delete_after", "kv_configs", "load_kv_config"]

KV_CONFIG_KIND = "kv-config"


@dataclass(frozen=True)
class KvConfig:
    max_versions: int = 0  # 0: the server's default
    cas_required: bool = False
    delete_version_after: float = 0.0  # seconds; 0: never

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def decode(cls, raw: bytes) -> KvConfig:
        doc = json.loads(raw)
        return cls(
            int(doc.get("max_versions", 0)),
            bool(doc.get("cas_required", False)),
            float(doc.get("delete_version_after", 0.0)),
        )


def kv_configs(store: Store) -> Records[KvConfig]:
    """Each KV mount's settings, by mount."""
    return Records(store, KV_CONFIG_KIND, KvConfig.decode, KvConfig.encode)


_DEFAULTS = KvConfig()  # frozen: one shared by every mount without settings of its own


def load_kv_config(store: Store, namespace: str) -> KvConfig:
    found = kv_configs(store).get(namespace)
    return _DEFAULTS if found is None else found


def effective_delete_after(mount: float, secret: float) -> float:
    """Vault's rule: the secret's value, unless the mount's is set and shorter."""
    chosen = [value for value in (mount, secret) if value > 0]
    return min(chosen) if chosen else 0.0
