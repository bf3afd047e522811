"""The plugin's side of strongroom: a Transit key, reached through the Vault API like any other
client (the server authenticates, authorizes and audits each call). A ciphertext is Transit's
``vault:vN:…`` text; the key id names the key and its version, so a rotation shows in Status and
kube-apiserver rewrites what it holds under the older version."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

__all__ = ["MAX_PLAINTEXT", "KeyUnavailable", "Refused", "TransitKey", "token_reader"]

MAX_PLAINTEXT = 64 * 1024  # kube-apiserver sends 32-byte seeds; more is not a DEK


class KeyUnavailable(Exception):
    """strongroom did not answer, or answered 5xx: retryable (gRPC UNAVAILABLE)."""


class Refused(Exception):
    """strongroom refused the call (4xx): not retryable as it is."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def token_reader(token: str | None, token_file: Path | None) -> Callable[[], str]:
    """The token, read from its file on every call when there is one (a projected token is
    rotated in place)."""
    if token_file is not None:
        return lambda: token_file.read_text().strip()
    if not token:
        raise ValueError("a token is needed: --token-file, --token or STRONGROOM_TOKEN")
    return lambda: token


class TransitKey:
    def __init__(
        self,
        addr: str,
        key: str,
        token: Callable[[], str],
        *,
        mount: str = "transit",
        verify: str | bool = True,
        timeout: float = 5.0,
    ) -> None:
        self.key = key
        self.mount = mount
        self._token = token
        self._http = httpx.Client(base_url=addr.rstrip("/"), verify=verify, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def key_id(self, version: int) -> str:
        return f"strongroom:{self.mount}/{self.key}:v{version}"

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            answer = self._http.request(
                method,
                f"/v1/{self.mount}/{path}",
                json=body,
                headers={"X-Vault-Token": self._token()},
            )
        except (httpx.HTTPError, OSError) as exc:
            raise KeyUnavailable(f"strongroom is unreachable ({type(exc).__name__})") from None
        if answer.status_code >= 500 or answer.status_code == 429:
            raise KeyUnavailable(f"strongroom answered {answer.status_code}")
        if answer.status_code >= 400:
            errors = _errors(answer)
            raise Refused(answer.status_code, f"strongroom refused: {errors}")
        doc: dict[str, Any] = answer.json()
        return doc

    def status(self) -> str:
        """The current key id (raises when strongroom or the key cannot be reached)."""
        data = self._call("GET", f"keys/{self.key}")["data"]
        return self.key_id(int(data["latest_version"]))

    def encrypt(self, plaintext: bytes) -> tuple[bytes, str]:
        if not 0 < len(plaintext) <= MAX_PLAINTEXT:
            raise Refused(400, f"plaintext must be 1 to {MAX_PLAINTEXT} bytes")
        body = {"plaintext": base64.b64encode(plaintext).decode()}
        ciphertext = str(self._call("POST", f"encrypt/{self.key}", body)["data"]["ciphertext"])
        version = int(ciphertext.split(":")[1].removeprefix("v"))
        return ciphertext.encode(), self.key_id(version)

    def decrypt(self, ciphertext: bytes) -> bytes:
        try:
            text = ciphertext.decode("ascii")
        except UnicodeDecodeError:
            raise Refused(400, "the ciphertext is not one this plugin made") from None
        if not text.startswith("vault:v"):
            raise Refused(400, "the ciphertext is not one this plugin made")
        data = self._call("POST", f"decrypt/{self.key}", {"ciphertext": text})["data"]
        return base64.b64decode(data["plaintext"])


def _errors(answer: httpx.Response) -> str:
    try:
        errors = answer.json().get("errors") or []
    except ValueError:
        return f"HTTP {answer.status_code}"
    return "; ".join(str(e) for e in errors)[:300] or f"HTTP {answer.status_code}"
