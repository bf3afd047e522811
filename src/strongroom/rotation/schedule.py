"""When a rotation is due: every interval, or a cron expression (UTC): five fields with names
(``0 3 * * MON``) or a shortcut (``@daily``), read by croniter, the one cron parser for every
surface (Secrets Manager's six-field ``cron(...)`` is translated to this in
compat/aws/secretsmanager/schedules.py). As in cron, when both the day and the weekday are
restricted, either matches.

After downtime a rotation runs once, not once per missed slot, and the next time is counted
from now. Each secret gets a fixed offset (up to 5% of its period, at most 5 minutes) so that
many secrets configured together do not all rotate in the same second."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from croniter import CroniterBadCronError, CroniterBadDateError, CroniterError, croniter

from strongroom.errors import BadRequest

__all__ = ["Schedule"]

_SHORTCUTS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def _checked_cron(expression: str) -> str:
    """A standard five-field expression (names such as MON and JAN, ranges, steps, lists) or a
    shortcut (@daily, @weekly, ...), parsed by croniter; anything else is refused with why."""
    text = expression.strip()
    if text.startswith("@"):
        if text.lower() not in _SHORTCUTS:
            raise BadRequest(f"cron shortcut {text!r} is not one of {', '.join(_SHORTCUTS)}")
        return text.lower()
    if len(text.split()) != 5:
        raise BadRequest(
            "a cron expression has 5 fields (minute hour day month weekday), or is a shortcut "
            "such as @daily"
        )
    try:
        croniter(text, datetime(2026, 1, 1, tzinfo=UTC))
    except (CroniterBadCronError, CroniterError, ValueError, KeyError) as exc:
        raise BadRequest(f"the cron expression {text!r} is not valid: {exc}") from None
    return text


@dataclass(frozen=True)
class Schedule:
    interval: float | None = None  # seconds
    cron: str | None = None

    def __post_init__(self) -> None:
        if (self.interval is None) == (self.cron is None):
            raise BadRequest("a rotation schedule is an interval or a cron expression (one)")
        if self.interval is not None and self.interval < 60:
            raise BadRequest("the rotation interval must be at least 60 seconds")
        if self.cron is not None:
            object.__setattr__(self, "cron", _checked_cron(self.cron))

    def spread(self, key: str) -> float:
        # Within the matched minute for cron (users expect 02:30 to mean 02:30).
        window = min(self.interval * 0.05, 300.0) if self.interval is not None else 50.0
        fraction = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") / 2**32
        return window * fraction

    def next_after(self, now: float, key: str) -> float:
        """The first due time after ``now`` for the secret named ``key``."""
        if self.interval is not None:
            return now + self.interval + self.spread(key)
        assert self.cron is not None
        start = datetime.fromtimestamp(now, tz=UTC)
        try:
            due = float(croniter(self.cron, start).get_next(float))
        except CroniterBadDateError:
            raise BadRequest(f"the cron expression {self.cron!r} never matches") from None
        return due + self.spread(key)

    def to_json(self) -> dict[str, object]:
        return {"interval": self.interval} if self.interval is not None else {"cron": self.cron}
