"""The gRPC server kube-apiserver talks to: KMS v2's Status, Encrypt and Decrypt on a Unix
socket, each answered by a strongroom Transit key. strongroom being unreachable is UNAVAILABLE
(kube-apiserver retries) and a Status whose healthz names the reason; a refusal is
INVALID_ARGUMENT or PERMISSION_DENIED. No error carries a plaintext or a ciphertext."""

from __future__ import annotations

import logging
import os
import stat
import threading
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc

from strongroom.kmsplugin.messages import SERVICE, messages
from strongroom.kmsplugin.transit import KeyUnavailable, Refused, TransitKey

__all__ = ["API_VERSION", "serve"]

API_VERSION = "v2"
log = logging.getLogger("strongroom.kmsplugin")


class _Service:
    def __init__(self, key: TransitKey) -> None:
        self._key = key
        self._types = messages()

    def status(self, request: Any, context: grpc.ServicerContext) -> Any:
        reply = self._types["StatusResponse"]
        try:
            return reply(version=API_VERSION, healthz="ok", key_id=self._key.status())
        except (KeyUnavailable, Refused) as exc:
            # Still an answer: kube-apiserver reads healthz, and keeps its last key id.
            return reply(version=API_VERSION, healthz=str(exc), key_id="")

    def encrypt(self, request: Any, context: grpc.ServicerContext) -> Any:
        ciphertext, key_id = self._run(context, lambda: self._key.encrypt(request.plaintext))
        return self._types["EncryptResponse"](ciphertext=ciphertext, key_id=key_id)

    def decrypt(self, request: Any, context: grpc.ServicerContext) -> Any:
        plaintext = self._run(context, lambda: self._key.decrypt(request.ciphertext))
        return self._types["DecryptResponse"](plaintext=plaintext)

    @staticmethod
    def _run(context: grpc.ServicerContext, work: Any) -> Any:
        try:
            return work()
        except KeyUnavailable as exc:
            context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        except Refused as exc:
            code = (
                grpc.StatusCode.PERMISSION_DENIED
                if exc.status in (401, 403)
                else grpc.StatusCode.INVALID_ARGUMENT
            )
            context.abort(code, str(exc))

    def handler(self) -> grpc.GenericRpcHandler:
        def method(function: Any, request: str, response: str) -> grpc.RpcMethodHandler[Any, Any]:
            return grpc.unary_unary_rpc_method_handler(
                function,
                request_deserializer=self._types[request].FromString,
                response_serializer=lambda message: message.SerializeToString(),
            )

        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "Status": method(self.status, "StatusRequest", "StatusResponse"),
                "Encrypt": method(self.encrypt, "EncryptRequest", "EncryptResponse"),
                "Decrypt": method(self.decrypt, "DecryptRequest", "DecryptResponse"),
            },
        )


def serve(socket: Path, key: TransitKey, stop: threading.Event, workers: int = 4) -> None:
    """Serve on ``socket`` (owner-only) until ``stop`` is set."""
    if socket.exists() or socket.is_symlink():
        if not stat.S_ISSOCK(socket.lstat().st_mode):
            raise FileExistsError(f"{socket} exists and is not a socket; refusing to replace it")
        socket.unlink()  # a socket left by a plugin that did not stop cleanly
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    server.add_generic_rpc_handlers((_Service(key).handler(),))
    previous = os.umask(0o177)  # the socket is created 0600: only its owner may connect
    try:
        server.add_insecure_port(f"unix://{socket}")
        server.start()
    finally:
        os.umask(previous)
    log.info("KMS v2 plugin listening on %s", socket)
    try:
        stop.wait()
    finally:
        server.stop(grace=5).wait()
        key.close()
        if socket.exists():
            socket.unlink()
