"""A JSON document from a server an auth method was configured with (an OIDC issuer, a
Kubernetes API server): the address passes the egress policy and is the one connected to (no
second lookup), no redirect is followed, the call ends within its timeout and the answer is
bounded. Every failure is Unauthenticated with words that name ``what`` was asked, never the
answer."""

from __future__ import annotations

import json
import ssl
from typing import Any

import httpx

from strongroom.egress import EgressPolicy, EgressRefused
from strongroom.errors import Unauthenticated

__all__ = ["MAX_DOCUMENT_BYTES", "TIMEOUT_SECONDS", "egress_json"]

MAX_DOCUMENT_BYTES = 256 * 1024
TIMEOUT_SECONDS = 5.0


def egress_json(
    egress: EgressPolicy,
    url: str,
    what: str,
    *,
    body: dict[str, Any] | None = None,
    bearer: str = "",
    ca_pem: str = "",
) -> dict[str, Any]:
    """GET ``url`` (or POST ``body`` to it as JSON, with ``bearer`` as the credential);
    ``ca_pem``: the CA of a server whose certificate is not a public one."""
    # A CA that does not parse is the config's fault: said before any connection is tried.
    try:
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cadata=ca_pem) if ca_pem else True
        )
    except (ssl.SSLError, ValueError):  # kept as written (auth/kubernetes_auth.py)
        raise Unauthenticated(
            f"{what} cannot be reached: the configured CA certificate does not parse"
        ) from None
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        target = egress.resolve(parsed.host, port)
    except EgressRefused:
        raise Unauthenticated(f"{what} cannot be reached (egress refused)") from None
    headers = {"Host": parsed.host if parsed.port is None else f"{parsed.host}:{parsed.port}"}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    content = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        content = json.dumps(body).encode()
    answer = b""
    try:
        with (
            httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False, verify=verify) as client,
            client.stream(
                "GET" if body is None else "POST",
                parsed.copy_with(host=target.address),
                headers=headers,
                content=content,
                extensions={"sni_hostname": parsed.host},
            ) as response,
        ):
            if response.status_code not in (200, 201):
                raise Unauthenticated(f"{what} answered {response.status_code}")
            for chunk in response.iter_bytes():
                answer += chunk
                if len(answer) > MAX_DOCUMENT_BYTES:
                    raise Unauthenticated(f"{what}: the answer is too large")
    except httpx.HTTPError:
        raise Unauthenticated(f"{what} cannot be reached") from None
    try:
        doc = json.loads(answer)
    except ValueError:
        raise Unauthenticated(f"{what}: the answer is not JSON") from None
    if not isinstance(doc, dict):
        raise Unauthenticated(f"{what}: the answer is not a JSON object")
    return doc
