"""The app factory: one composition root for the server. It wires the node (store, seal,
services once unsealed) to the front door and the surfaces."""

from __future__ import annotations

from collections.abc import Sequence

from strongroom.auth.tokens import TokenRegistry
from strongroom.config import ServerSettings
from strongroom.rotation.rotators import Rotator
from strongroom.server.aws import aws_surface
from strongroom.server.console import console_surface
from strongroom.server.front import Front
from strongroom.server.native import native_surface
from strongroom.server.node import Node
from strongroom.server.ops import metrics_handler, ops_surface
from strongroom.server.surface import Surface
from strongroom.server.vault import vault_surface
from strongroom.service.auth_methods import AuthMethodService

__all__ = ["create_app"]


def create_app(
    settings: ServerSettings,
    node: Node | None = None,
    extra: Sequence[Surface] = (),
    rotators: Sequence[Rotator] = (),
) -> Front[Node]:
    """The ASGI app. ``extra`` surfaces are tried after the built-in ones; ``rotators`` join the
    built-in ones and those of installed packages. A node the app makes is closed when the app
    shuts down; a node given to it stays its caller's to close."""
    owns_node = node is None
    node = node or Node(settings, rotators=rotators)

    def registry() -> TokenRegistry:
        return node.require_runtime().tokens

    def auth_mounts() -> AuthMethodService | None:
        runtime = node.runtime
        return runtime.services.auth_methods if runtime is not None else None

    surfaces = [
        native_surface(registry, metrics_handler(node.metrics.render), auth_mounts),  # most
        vault_surface(registry, auth_mounts),  # Vault's API under /v1/
        aws_surface(lambda: node.require_runtime().services.aws_keys),  # POST / + X-Amz-Target
        ops_surface(registry, node.metrics.render),
        console_surface(),  # the web console at /ui/
        *extra,
    ]
    return Front(node, surfaces, owns_node=owns_node)
