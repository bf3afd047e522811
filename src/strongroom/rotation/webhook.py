"""The webhook rotator: your endpoint does the work of each step (as a rotation Lambda does).

strongroom POSTs ``{"step", "secret", "token", "version", "current", "pending"}`` as JSON, signed
(see ``signing``), to ``url``; any 2xx is success. For ``create`` the endpoint may answer
``{"value": {...}}`` with the new secret data; without one, strongroom generates a password in
``key`` (default ``password``) under ``policy``. 5xx answers and network errors are retried
(``retries``, back-off from 0.5 s); 4xx fails the step at once. Parameters: ``url``,
``signing_secret`` (``ns/path`` of a secret whose ``key`` field is the HMAC key), ``timeout``
(seconds, default 10), ``retries`` (default 3), ``key``, ``policy``."""

from __future__ import annotations

import json
import time
from typing import Any

from strongroom.errors import BadRequest
from strongroom.rotation.passwords import PasswordPolicy, generate_password
from strongroom.rotation.rotators import RotationContext, RotationFailed, Rotator
from strongroom.rotation.signing import SIGNATURE_HEADER, sign

__all__ = ["WebhookRotator", "post_signed"]


def post_signed(
    url: str, key: bytes, doc: dict[str, Any], *, timeout: float = 10.0, retries: int = 3
) -> dict[str, Any]:
    """POST ``doc`` signed; the JSON answer (or {}). Raises RotationFailed with a safe message."""
    import httpx

    body = json.dumps(doc, separators=(",", ":")).encode()
    delay = 0.5
    problem = ""
    for attempt in range(retries + 1):
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(key, body)}
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=timeout)
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__} reaching the webhook"
        else:
            if response.is_success:
                try:
                    answer = response.json() if response.content else {}
                except ValueError:
                    answer = {}
                return answer if isinstance(answer, dict) else {}
            problem = f"the webhook answered {response.status_code}"
            if response.status_code < 500:
                break
        if attempt < retries:
            time.sleep(delay)
            delay *= 2
    raise RotationFailed(problem)


class WebhookRotator(Rotator):
    name = "webhook"

    def validate(self, params: dict[str, Any]) -> None:
        url = params.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise BadRequest("webhook rotator: url must be an http(s) URL")
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
