"""Which policy path governs which operation on a KV v2 secret: Vault's, once, for every surface.

A namespace of kind ``kv-v2`` is a Vault KV v2 mount, so a policy written for Vault grants on
strongroom exactly what it grants on Vault, whether the request comes through the Vault API, the
native API, the CLI or a rotation:

=====================================  ===========================================
operation                              capability on
=====================================  ===========================================
read a version (current, N, label)     ``read`` on ``<ns>/data/<path>``
write a version                        ``create`` / ``update`` on ``<ns>/data/<path>``
patch                                  ``patch`` on ``<ns>/data/<path>``
delete the current version             ``delete`` on ``<ns>/data/<path>``
delete versions                        ``update`` on ``<ns>/delete/<path>``
undelete versions                      ``update`` on ``<ns>/undelete/<path>``
destroy versions                       ``update`` on ``<ns>/destroy/<path>``
read metadata and history              ``read`` on ``<ns>/metadata/<path>``
write metadata, set a label            ``create`` / ``update`` on ``<ns>/metadata/<path>``
delete every version and the metadata  ``delete`` on ``<ns>/metadata/<path>``
list a folder                          ``list`` on ``<ns>/metadata/<folder>/``
read the subkeys                       ``read`` on ``<ns>/subkeys/<path>``
=====================================  ===========================================

A namespace of kind ``kv-v1`` is a Vault KV version 1 mount: a secret's one policy path is
``<ns>/<path>`` (``read``, ``create``/``update``, ``delete``; ``list`` on ``<ns>/<folder>/``), as in
Vault, so ``<ns>/data/x`` there is the secret named ``data/x``. Only the Vault API's version 1
routes serve it (service/kv_v1.py); the version 2 operations find nothing there.
"""

from __future__ import annotations

__all__ = [
    "DATA",
    "DELETE",
    "DESTROY",
    "METADATA",
    "SUBKEYS",
    "UNDELETE",
    "kv1_policy_path",
    "kv_data_path",
    "kv_policy_path",
    "v1_only",
]

DATA = "data"
METADATA = "metadata"
DELETE = "delete"
UNDELETE = "undelete"
DESTROY = "destroy"
SUBKEYS = "subkeys"


def kv_policy_path(namespace: str, area: str, path: str) -> str:
    """The policy path of ``path`` (a secret, or a folder ending in '/') in one area."""
    return f"{namespace}/{area}/{path}"


def kv1_policy_path(namespace: str, path: str) -> str:
    """The policy path of ``path`` (a secret, or a folder ending in '/') on a version 1 mount."""
    return f"{namespace}/{path}"


def v1_only(namespace: str) -> str:
    """Why a version 2 operation finds nothing on a version 1 mount."""
    return (
        f"{namespace} is a KV version 1 mount: use the Vault API's version 1 paths "
        f"(/v1/{namespace}/<path>)"
    )


def kv_data_path(name: str) -> str:
    """The data policy path of a secret named ``<ns>/<path>`` (as rotation settings name it)."""
    namespace, _, path = name.partition("/")
    return kv_policy_path(namespace, DATA, path)
