"""A Vault or OpenBao Transit key as a root of trust (``transit:`` provider URIs).

    transit://vault.example:8200/<mount>/<key>?token_file=/etc/strongroom/vault-token
        [&ca_cert=/etc/strongroom/vault-ca.pem][&timeout=10][&scheme=https]
    transit://vault.example:8200/<mount>/<key>?role_id_file=…&secret_id_file=…
        [&approle_mount=approle]

The server is reached over HTTPS unless ``scheme=http`` is given (for a server on loopback).

Each wrap is ``POST <mount>/encrypt/<key>`` with the canonical context as ``associated_data``
(AES-GCM binds it, so an unwrap under another context fails, whether or not the key is derived);
each unwrap is ``decrypt``. Authentication: a token read from a file (re-read when refused, so an
agent may rotate it), or AppRole (logged in again when the token is refused or expires). Every
call has a timeout. An answer of "no" (a 4xx about the ciphertext) is the opaque
DecryptionError; anything else (unreachable, refused, 5xx) is KeyProviderUnavailable, whose
message names the server and the operation but never a token, a key or an SDK type."""

from __future__ import annotations

import base64
import ssl
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from strongroom.crypto.context import Context, canonical_context
from strongroom.errors import BadRequest, DecryptionError, KeyProviderUnavailable
from strongroom.keyproviders.options import DEFAULT_TIMEOUT, check_options, timeout_option
from strongroom.keyproviders.provider import KeyProviderBase

__all__ = ["TransitKeyProvider", "transit_provider"]

_MAX_WRAPPED = 4096  # a wrapped key is a short ciphertext string


class TransitKeyProvider(KeyProviderBase):
    def __init__(
        self,
        addr: str,
        mount: str,
        key: str,
        *,
        token_file: Path | None = None,
        role_id_file: Path | None = None,
        secret_id_file: Path | None = None,
        approle_mount: str = "approle",
        ca_cert: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if (token_file is None) == (role_id_file is None or secret_id_file is None):
            raise BadRequest(
                "a transit provider logs in with token_file=…, or with role_id_file=… and "
                "secret_id_file=… (AppRole)"
            )
        self._addr = addr.rstrip("/")
        self._mount, self._key = mount, key
        self._token_file = token_file
        self._approle = (role_id_file, secret_id_file, approle_mount)
        self._http = httpx.Client(
            base_url=f"{self._addr}/v1", timeout=timeout, verify=_trust(ca_cert)
        )
        self._token = ""
        self._lock = threading.Lock()
        # The token's lease, kept alive by a renewer thread started at the first login.
        self._lease = _Lease(0.0, 0.0, renewable=False)
        self._renewer: threading.Thread | None = None
        self._closed = threading.Event()

    def __repr__(self) -> str:
        return f"TransitKeyProvider({self.key_ref!r})"

    @property
    def key_ref(self) -> str:
        return f"transit:{self._mount}/{self._key}"

    # -- authentication
    def _login(self) -> str:
        """A token (read from the file, or from an AppRole login) and its lease; starts the
        renewer. Called with ``_lock`` held."""
        token, lease = self._fresh_token()
        self._lease = lease
        if self._renewer is None:
            self._renewer = threading.Thread(
                target=self._keep_renewed, name="transit-token-renewer", daemon=True
            )
            self._renewer.start()
        return token

    def _fresh_token(self) -> tuple[str, _Lease]:
        if self._token_file is not None:
            try:
                token = self._token_file.read_text().strip()
            except OSError:
                raise KeyProviderUnavailable(
                    f"cannot read the transit token file {self._token_file}"
                ) from None
            try:
                data = self._send("GET", "auth/token/lookup-self", {}, token=token).get("data")
            except (_Refused, DecryptionError, KeyProviderUnavailable):
                data = None  # no lookup-self grant: used as it is, re-read when refused
            if not isinstance(data, dict):
                return token, _Lease(0.0, 0.0, renewable=False)
            return token, _Lease.of(data.get("ttl"), data.get("renewable"))
        role_file, secret_file, mount = self._approle
        assert role_file is not None and secret_file is not None
        try:
            body = {
                "role_id": role_file.read_text().strip(),
                "secret_id": secret_file.read_text().strip(),
            }
        except OSError:
            raise KeyProviderUnavailable("cannot read the transit AppRole files") from None
        try:
            answer = self._send("POST", f"auth/{mount}/login", body, token="")
        except (_Refused, DecryptionError):
            answer = {}
        auth = answer.get("auth") or {}
        client_token = auth.get("client_token")
        if not isinstance(client_token, str) or not client_token:
            raise KeyProviderUnavailable(f"the transit server at {self._addr} refused the login")
        return client_token, _Lease.of(auth.get("lease_duration"), auth.get("renewable"))

    def _keep_renewed(self) -> None:
        """Renew the token when two thirds of its lease have passed (``renew-self``); when
        that fails, log in again (AppRole) or re-read the file. A failure here is not fatal:
        the next call logs in again when the token is refused."""
        while not self._closed.wait(self._lease.renew_in()):
            with self._lock:
                token = self._token
            if not token or not self._lease.renewable:
                continue
            try:
                answer = self._send("POST", "auth/token/renew-self", {}, token=token)
                auth = answer.get("auth") or {}
                lease = _Lease.of(auth.get("lease_duration"), auth.get("renewable"))
                with self._lock:
                    self._lease = lease
            except (_Refused, DecryptionError, KeyProviderUnavailable):
                try:
                    with self._lock:
                        self._token = self._login()
                except KeyProviderUnavailable:
                    continue

    # -- calls
    def _send(
        self, method: str, path: str, body: Mapping[str, Any], *, token: str
    ) -> dict[str, Any]:
        headers = {"X-Vault-Token": token} if token else {}
        try:
            response = self._http.request(method, path, json=dict(body), headers=headers)
        except httpx.HTTPError as exc:
            raise KeyProviderUnavailable(
                f"the transit server at {self._addr} is unreachable ({_kind(exc)})"
            ) from None
        if response.status_code in (400, 404):
            raise DecryptionError()  # an answer about the ciphertext or key: no
        if response.status_code in (401, 403):
            raise _Refused()
        if response.status_code >= 300:
            raise KeyProviderUnavailable(
                f"the transit server at {self._addr} answered {response.status_code} to {path}"
            )
        try:
            doc = response.json()
        except ValueError:
            raise KeyProviderUnavailable(
                f"the transit server at {self._addr} sent an answer that is not JSON"
            ) from None
        return doc if isinstance(doc, dict) else {}

    def _call(self, operation: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """One Transit call; a refused token is replaced once (re-read, or a new login)."""
        path = f"{self._mount}/{operation}/{self._key}"
        with self._lock:
            if not self._token:
                self._token = self._login()
            token = self._token
        try:
            return self._send("POST", path, body, token=token)
        except _Refused:
            with self._lock:
                self._token = self._login()
                token = self._token
            try:
                return self._send("POST", path, body, token=token)
            except _Refused:
                raise KeyProviderUnavailable(
                    f"the transit server at {self._addr} refused {operation} with key "
                    f"{self._key}: check the token's policy (update on {path})"
                ) from None

    def wrap(self, plaintext_key: bytes, *, context: Context) -> bytes:
        answer = self._call(
            "encrypt",
            {
                "plaintext": base64.b64encode(plaintext_key).decode(),
                "associated_data": base64.b64encode(canonical_context(context)).decode(),
            },
        )
        ciphertext = (answer.get("data") or {}).get("ciphertext")
        if not isinstance(ciphertext, str) or not ciphertext.startswith("vault:v"):
            raise KeyProviderUnavailable(
                f"the transit server at {self._addr} sent no ciphertext for encrypt"
            )
        return ciphertext.encode()

    def unwrap(self, wrapped: bytes, *, context: Context) -> bytes:
        if not wrapped or len(wrapped) > _MAX_WRAPPED or not _canonical(wrapped):
            raise DecryptionError()
        answer = self._call(
            "decrypt",
            {
                "ciphertext": wrapped.decode("ascii"),
                "associated_data": base64.b64encode(canonical_context(context)).decode(),
            },
        )
        plaintext = (answer.get("data") or {}).get("plaintext")
        try:
            return base64.b64decode(plaintext, validate=True) if isinstance(plaintext, str) else b""
        except ValueError:
            raise DecryptionError() from None

    def close(self) -> None:
        self._closed.set()
        self._http.close()


def _canonical(wrapped: bytes) -> bool:
    """Exactly the form a wrap returns: ``vault:v<N>:`` and strict, canonical base64. Base64
    leaves a few bits of its last character unused, and lenient decoders ignore them: without
    this, a flipped bit there would still unwrap, and the stored bytes would not be the only
    ones that do."""
    if not wrapped.isascii():
        return False
    prefix, _, rest = wrapped.decode("ascii").rpartition(":")
    head, _, number = prefix.partition(":v")
    # Versions count from 1; OpenBao reads v0 as the latest, so v1 flipped to v0 would open.
    if head != "vault" or not (number.isdigit() and number == str(int(number)) != "0"):
        return False
    try:
        return base64.b64encode(base64.b64decode(rest, validate=True)).decode() == rest
    except ValueError:
        return False


def _trust(ca_cert: str | None) -> ssl.SSLContext | bool:
    """The system's CAs, or only the CA bundle the URI names (``ca_cert=``)."""
    if not ca_cert:
        return True
    try:
        return ssl.create_default_context(cafile=ca_cert)
    except (OSError, ssl.SSLError):
        raise KeyProviderUnavailable(f"cannot read the CA bundle {ca_cert}") from None


class _Refused(Exception):
    """The server refused the token (401 or 403)."""


class _Lease:
    """When a token was obtained, for how long, and whether it may be renewed."""

    __slots__ = ("obtained", "renewable", "ttl")

    def __init__(self, obtained: float, ttl: float, *, renewable: bool) -> None:
        self.obtained, self.ttl, self.renewable = obtained, ttl, renewable

    @classmethod
    def of(cls, ttl: object, renewable: object) -> _Lease:
        seconds = float(ttl) if isinstance(ttl, int | float) and not isinstance(ttl, bool) else 0
        return cls(time.monotonic(), seconds, renewable=renewable is True and seconds > 0)

    def renew_in(self) -> float:
        """Seconds until two thirds of the lease have passed (a minute when there is none)."""
        if not self.renewable:
            return 60.0
        return max(1.0, self.obtained + self.ttl * 2 / 3 - time.monotonic())


def _kind(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or no route"
    return "connection failed"


def transit_provider(uri: Any) -> TransitKeyProvider:
    """From a parsed ``transit:`` URI (keyproviders/registry.py)."""
    target: str = uri.target
    params: Mapping[str, str] = uri.params
    if not target.startswith("//"):
        raise BadRequest("a transit provider is transit://host:8200/<mount>/<key>?token_file=…")
    host, _, path = target[2:].partition("/")
    parts = [p for p in path.split("/") if p]
    if len(parts) != 2:
        raise BadRequest("a transit provider URI ends in /<mount>/<key>")
    scheme = params.get("scheme", "https")
    if scheme not in ("https", "http"):
        raise BadRequest("scheme is https (the default) or http")
    check_options(
        "transit",
        params,
        ("scheme", "token_file", "role_id_file", "secret_id_file", "approle_mount", "ca_cert"),
    )
    timeout = timeout_option(params)

    def file(name: str) -> Path | None:
        return Path(params[name]) if params.get(name) else None

    return TransitKeyProvider(
        f"{scheme}://{host}",
        parts[0],
        parts[1],
        token_file=file("token_file"),
        role_id_file=file("role_id_file"),
        secret_id_file=file("secret_id_file"),
        approle_mount=params.get("approle_mount", "approle"),
        ca_cert=params.get("ca_cert") or None,
        timeout=timeout,
    )
