"""Rotation notifications (signed webhooks) and the audit form of a rotation step."""

from __future__ import annotations

import logging
import threading
from typing import Any

from strongroom.egress import EgressPolicy
from strongroom.errors import StrongroomError
from strongroom.service.staging import StagedVersions
from strongroom.types import format_time

__all__ = ["Notifier", "audited_rotation"]

log = logging.getLogger("strongroom.rotation")


def audited_rotation(entry: dict[str, Any]) -> dict[str, Any]:
    """A rotation step as an audit entry: the rotation token joins a run's entries."""
    return {**entry, "time": format_time(float(entry["time"]))}


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
        try:
            key = self._secrets.read_stage(namespace, path, "current").data.get("key")
            if not isinstance(key, str) or not key:
                raise StrongroomError("the notification signing secret needs a 'key' field")
            post_signed(url, key.encode(), event, self._egress, timeout=5.0, retries=2)
        except StrongroomError as exc:
            log.warning("notification %s not delivered: %s", event.get("event"), exc)
