"""Native routes of rotation: configure, run, cancel and inspect."""

from __future__ import annotations

from strongroom.durations import parse_duration
from strongroom.errors import BadRequest
from strongroom.server.bodies import optional_str
from strongroom.server.native.schemas import DURATION, STR
from strongroom.server.routes import Answer, Call, Route

__all__ = [
    "ROTATION_ROUTES",
    "cancel_rotation",
    "configure_rotation",
    "list_rotations",
    "remove_rotation",
    "rotate_now",
    "rotation_status",
]

_CONFIG = {
    "type": "object",
    "required": ["rotator"],
    "properties": {
        "rotator": STR,
        "params": {"type": "object"},
        "interval": DURATION,
        "cron": STR,
        "expire_after": DURATION,
        "notify_url": STR,
        "notify_secret": STR,
    },
}


def _secret(call: Call) -> tuple[str, str]:
    return call.params["namespace"], call.params["path"]


def rotation_status(call: Call) -> Answer:
    return Answer({"data": call.services.rotation.status(call.identity, *_secret(call)).to_json()})


def remove_rotation(call: Call) -> Answer:
    call.services.rotation.remove(call.identity, *_secret(call))
    return Answer.empty()


def configure_rotation(call: Call) -> Answer:
    doc = call.json()
    rotator = doc.get("rotator")
    if not isinstance(rotator, str):
        raise BadRequest('body must name a "rotator" (random, postgres, webhook, …)')
    params = doc.get("params", {})
    if not isinstance(params, dict):
        raise BadRequest("params must be a JSON object")
    described = call.services.rotation.configure(
        call.identity,
        *_secret(call),
        rotator=rotator,
        params=params,
        interval=parse_duration(doc.get("interval"), "interval"),
        cron=optional_str(doc, "cron"),
        expire_after=parse_duration(doc.get("expire_after"), "expire_after"),
        notify_url=optional_str(doc, "notify_url"),
        notify_secret=optional_str(doc, "notify_secret"),
    )
    return Answer({"data": described.to_json()})


def rotate_now(call: Call) -> Answer:
    result = call.services.rotation.rotate_now(call.identity, *_secret(call))
    return Answer({"data": result.to_json()})


def cancel_rotation(call: Call) -> Answer:
    cancelled = call.services.rotation.cancel(call.identity, *_secret(call))
    return Answer({"data": {"cancelled": cancelled}})


def list_rotations(call: Call) -> Answer:
    rotations = call.services.rotation.configured(call.identity)
    return Answer({"data": [r.to_json() for r in rotations]})


_R = "/api/v1/rotation"
_S = "/{namespace}/{path:path}"

ROTATION_ROUTES = (
    Route("GET", _R, list_rotations, "listRotations", "Configured rotations you may see"),
    Route("GET", f"{_R}/config{_S}", rotation_status, "rotationStatus", "Settings, state, history"),
    Route(
        "PUT",
        f"{_R}/config{_S}",
        configure_rotation,
        "configureRotation",
        "Configure",
        body=_CONFIG,
    ),
    Route(
        "DELETE", f"{_R}/config{_S}", remove_rotation, "removeRotation", "Stop rotating", status=204
    ),
    Route("POST", f"{_R}/run{_S}", rotate_now, "rotateNow", "Rotate (or resume) now"),
    Route("POST", f"{_R}/cancel{_S}", cancel_rotation, "cancelRotation", "Roll back a run"),
)
