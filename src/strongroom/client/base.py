"""The SDK's HTTP core: one httpx client, one error translation. Imports only errors, types
and httpx."""

from __future__ import annotations

import ipaddress
import ssl
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Self
from urllib.parse import quote

try:
    import httpx
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("the client needs httpx: pip install 'strongroom[client]'") from exc

from strongroom.errors import BadRequest, ServerUnreachable, StrongroomError, error_for_code
from strongroom.paths import check_path, check_prefix

__all__ = ["BaseClient", "InsecureTransportWarning", "quote_path"]


class InsecureTransportWarning(UserWarning):
    """A token is about to cross the network in clear text."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def quote_path(path: str) -> str:
    return quote(path, safe="/")


class BaseClient:
    """``Client("https://vault.example:8200", token, verify="ca.pem")``. ``verify`` is True
    (system CAs), a CA bundle path, or False (never in production). Pass ``transport`` to test
    in-process."""

    def __init__(
        self,
        addr: str,
        token: str | None = None,
        *,
        verify: bool | str = True,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"User-Agent": "strongroom-sdk"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # A CA bundle path becomes an SSL context (httpx deprecates passing the path itself).
        tls: bool | ssl.SSLContext = (
            ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify
        )
        self._http = httpx.Client(
            base_url=addr.rstrip("/"),
            headers=headers,
            verify=tls,
            timeout=timeout,
            transport=transport,
        )
        self._warned = False
        if token:
            self._warn_if_plain_http()

    def _warn_if_plain_http(self) -> None:
        """A token sent over plain HTTP to another machine can be read on the way: say so."""
        url = self._http.base_url
        if self._warned or url.scheme != "http" or _is_loopback(url.host):
            return
        self._warned = True
        warnings.warn(
            f"sending a token over plain http:// to {url.host}; anyone on the network path "
            "can read it. Use https://",
            InsecureTransportWarning,
            stacklevel=3,
        )

    def set_token(self, token: str | None) -> None:
        """Use ``token`` from now on (after a login)."""
        if token:
            self._warn_if_plain_http()
            self._http.headers["Authorization"] = f"Bearer {token}"
        else:
            self._http.headers.pop("Authorization", None)

    def __repr__(self) -> str:
        return f"Client({str(self._http.base_url)!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _secret_url(self, action: str, namespace: str, path: str) -> str:
        # Refused here with the server's own message, never repaired: httpx would resolve
        # "a/../b" to "b" and write somewhere else than asked.
        canonical = check_prefix(path) if action == "list" else check_path(path)
        return f"/api/v1/{action}/{namespace}/{quote_path(canonical)}"

    def _call(
        self,
        method: str,
        url: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
    ) -> Any:
        response = self._send(method, url, json=json, params=params)
        if response.status_code == 204:
            return None
        try:
            doc = response.json()
        except ValueError:
            doc = None
        if response.is_success:
            return doc
        raise _error_of(response.status_code, doc)

    def _download(self, url: str, progress: Callable[[int, int], None] | None = None) -> bytes:
        """A GET whose answer is bytes (a backup), errors as for every call; ``progress(done,
        total)`` is told as the bytes arrive (total 0 when the server does not say)."""
        with self._http.stream("GET", url) as response:
            if not response.is_success:
                response.read()
                try:
                    doc = response.json()
                except ValueError:
                    doc = None
                raise _error_of(response.status_code, doc)
            total = int(response.headers.get("content-length", "0") or 0)
            chunks, done = [], 0
            for chunk in response.iter_bytes(65536):
                chunks.append(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
            return b"".join(chunks)

    def _send(
        self,
        method: str,
        url: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
    ) -> httpx.Response:
        if any(segment in (".", "..") for segment in url.partition("?")[0].split("/")):
            # httpx would resolve the dot segment and send the request somewhere else.
            raise BadRequest("a name or path must not be '.' or '..'")
        try:
            response = self._http.request(method, url, json=json, params=params)
        except httpx.ConnectError as exc:
            if "Hostname mismatch" in str(exc) or "IP address mismatch" in str(exc):
                raise ServerUnreachable(
                    f"the certificate of the server at {self._http.base_url} is for another "
                    "name; connect with a name the certificate lists"
                ) from None
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise ServerUnreachable(
                    f"the server at {self._http.base_url} presented a certificate that is not "
                    "trusted; pass its CA with --ca-cert or STRONGROOM_CACERT"
                ) from None
            raise ServerUnreachable(
                f"cannot reach the server at {self._http.base_url} ({type(exc).__name__}); "
                "is it running, and is STRONGROOM_ADDR right?"
            ) from None
        except httpx.HTTPError as exc:
            raise ServerUnreachable(
                f"cannot reach the server at {self._http.base_url} ({type(exc).__name__}); "
                "is it running, and is STRONGROOM_ADDR right?"
            ) from None
        return response


def _error_of(status: int, doc: Any) -> StrongroomError:
    """The server's error answer as the error class its code names."""
    info = doc.get("error", {}) if isinstance(doc, dict) else {}
    cls = error_for_code(str(info.get("code", "")))
    error = cls(str(info.get("message") or f"HTTP {status}"))
    error.details = {k: v for k, v in info.items() if k not in ("code", "message")}
    return error
