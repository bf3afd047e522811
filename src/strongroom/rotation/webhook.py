"""The webhook rotator: your endpoint does the work of each step (as a rotation Lambda does).

strongroom POSTs ``{"step", "secret", "token", "version", "current", "pending"}`` as JSON, signed
(see ``signing``), to ``url``; any 2xx is success. For ``create`` the endpoint may answer
``{"value": {...}}`` with the new secret data; without one, strongroom generates a password in
``key`` (default ``password``) under ``policy``. An answer that carries a value must be signed
with the same key (the same header), so nothing but your endpoint can choose a secret. 5xx
answers and network errors are retried (``retries``, back-off from 0.5 s); 4xx fails the step at
once. Parameters: ``url``, ``signing_secret`` (``ns/path`` of a secret whose ``key`` field is
the HMAC key), ``timeout`` (seconds, 0.1-30, default 10), ``retries`` (0-5, default 3), ``key``,
``policy``.

The server connects only where the egress policy allows (strongroom.egress), and tells the
caller no more than that a step failed: status codes and network errors go to the server log,
or a webhook rotator would be a port scanner."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from strongroom.egress import EgressPolicy, EgressRefused, check_url
from strongroom.errors import BadRequest, RotationFailed
from strongroom.password_generation import PasswordPolicy, generate_password
from strongroom.rotation.rotators import RotationContext, Rotator
from strongroom.rotation.signing import SIGNATURE_HEADER, sign, verify_signature

__all__ = ["MAX_RETRIES", "MAX_TIMEOUT", "WebhookRotator", "post_signed"]

log = logging.getLogger("strongroom.rotation")

MAX_TIMEOUT = 30.0
MAX_RETRIES = 5
_MAX_ANSWER_BYTES = 64 * 1024
_FAILED = "the webhook step failed; the server log has the reason"


def _bounded(params: dict[str, Any], name: str, default: float, top: float) -> float:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= top:
        raise BadRequest(f"webhook rotator: {name} must be a number from 0 to {top:g}")
    return float(value)


def post_signed(
    url: str,
    key: bytes,
    doc: dict[str, Any],
    egress: EgressPolicy,
    *,
    timeout: float = 10.0,
    retries: int = 3,
) -> dict[str, Any]:
    """POST ``doc`` signed, to an address the egress policy allows; the JSON answer (or {}).
    An answer is returned only with a valid signature; otherwise {} (a 2xx still counts).
    Raises RotationFailed with a message that says nothing about the target."""
    import httpx

    body = json.dumps(doc, separators=(",", ":")).encode()
    timeout = min(max(timeout, 0.1), MAX_TIMEOUT)
    retries = min(max(retries, 0), MAX_RETRIES)
    parsed = httpx.URL(url)
    try:
        target = egress.resolve(
            parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80)
        )
    except EgressRefused as exc:
        log.warning("webhook not called: %s", exc.message)
        raise RotationFailed(_FAILED) from None
    # Connect to the checked address; the name still goes in Host and the TLS server name.
    pinned = parsed.copy_with(host=target.address)
    host_header = parsed.host if parsed.port is None else f"{parsed.host}:{parsed.port}"
    delay = 0.5
    for attempt in range(retries + 1):
        headers = {
            "Content-Type": "application/json",
            "Host": host_header,
            SIGNATURE_HEADER: sign(key, body),
        }
        try:
            with httpx.Client(timeout=timeout, follow_redirects=False) as client:
                response = client.post(
                    pinned,
                    content=body,
                    headers=headers,
                    extensions={"sni_hostname": parsed.host},
                )
        except httpx.HTTPError as exc:
            log.warning("webhook %s: %s", parsed.host, type(exc).__name__)
        else:
            if response.is_success:
                return _signed_answer(key, response.content, response.headers)
            log.warning("webhook %s answered %d", parsed.host, response.status_code)
            if response.status_code < 500:
                break
        if attempt < retries:
            time.sleep(delay)
            delay *= 2
    raise RotationFailed(_FAILED)


def _signed_answer(key: bytes, content: bytes, headers: Any) -> dict[str, Any]:
    if not content or len(content) > _MAX_ANSWER_BYTES:
        return {}
    if not verify_signature(key, content, str(headers.get(SIGNATURE_HEADER, ""))):
        log.warning("webhook answer ignored: not signed with the signing key")
        return {}
    try:
        answer = json.loads(content)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


class WebhookRotator(Rotator):
    name = "webhook"

    def validate(self, params: dict[str, Any]) -> None:
        check_url(params.get("url"), "webhook rotator: url")
        _bounded(params, "timeout", 10, MAX_TIMEOUT)
        _bounded(params, "retries", 3, MAX_RETRIES)
        if not isinstance(params.get("signing_secret"), str):
            raise BadRequest("webhook rotator: signing_secret is the ns/path of the HMAC key")
        PasswordPolicy.from_json(params.get("policy", {}))

    def references(self, params: dict[str, Any]) -> list[str]:
        return [str(params["signing_secret"])]

    def _call(self, ctx: RotationContext, step: str) -> dict[str, Any]:
        signing = ctx.read_secret(str(ctx.params["signing_secret"]))
        key = signing.get("key")
        if not isinstance(key, str) or not key:
            raise RotationFailed("the signing secret needs a non-empty 'key' field")
        doc = {
            "step": step,
            "secret": f"{ctx.namespace}/{ctx.path}",
            "token": ctx.token,
            "current": ctx.current,
            "pending": ctx.pending,
        }
        return post_signed(
            str(ctx.params["url"]),
            key.encode(),
            doc,
            ctx.egress,
            timeout=float(ctx.params.get("timeout", 10)),
            retries=int(ctx.params.get("retries", 3)),
        )

    def create(self, ctx: RotationContext) -> dict[str, Any]:
        answer = self._call(ctx, "create")
        value = answer.get("value")
        if isinstance(value, dict):
            return value
        policy = PasswordPolicy.from_json(ctx.params.get("policy", {}))
        return {
            **(ctx.current or {}),
            str(ctx.params.get("key", "password")): generate_password(policy),
        }

    def set(self, ctx: RotationContext) -> None:
        self._call(ctx, "set")

    def test(self, ctx: RotationContext) -> None:
        self._call(ctx, "test")

    def finish(self, ctx: RotationContext) -> None:
        self._call(ctx, "finish")

    def rollback(self, ctx: RotationContext) -> None:
        self._call(ctx, "rollback")
