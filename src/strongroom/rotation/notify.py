"""Rotation notifications: signed webhooks sent from a thread of their own."""

from __future__ import annotations

import logging
import threading
from typing import Any

from strongroom.egress import EgressPolicy
from strongroom.errors import StrongroomError
from strongroom.policy.grants import system_grant
from strongroom.service.staging import StagedVersions

__all__ = ["Notifier"]

log = logging.getLogger("strongroom.rotation")


class Notifier:
    """Posts events to a rotation's ``notify_url``, signed with the ``key`` field of the secret
    named by ``notify_secret``. Sent from a thread of its own: a slow endpoint never holds up a
    rotation, and a failed delivery is logged (without the body) and dropped."""

    def __init__(self, secrets: StagedVersions, egress: EgressPolicy) -> None:
        self._secrets = secrets
        self._egress = egress

    def send(self, doc: dict[str, Any], event: dict[str, Any]) -> None:
        url, reference = doc.get("notify_url"), doc.get("notify_secret")
        if not url or not reference:
            return
        thread = threading.Thread(
            target=self._deliver, args=(str(url), str(reference), event), daemon=True
        )
        thread.start()

    def _deliver(self, url: str, reference: str, event: dict[str, Any]) -> None:
        from strongroom.rotation.webhook import post_signed

        namespace, _, path = reference.partition("/")
        # Whoever configured the notification was checked for ``read`` on this secret.
        grant = system_grant(namespace, path, "rotation notifications")
        try:
            key = self._secrets.read_stage(grant, "current").data.get("key")
            if not isinstance(key, str) or not key:
                raise StrongroomError("the notification signing secret needs a 'key' field")
            post_signed(url, key.encode(), event, self._egress, timeout=5.0, retries=2)
        except StrongroomError as exc:
            log.warning("notification %s not delivered: %s", event.get("event"), exc)
