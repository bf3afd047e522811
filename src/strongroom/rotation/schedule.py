"""When a rotation is due: every interval, or a five-field cron expression (UTC).

After downtime a rotation runs once, not once per missed slot, and the next time is counted
from now. Each secret gets a fixed offset (up to 5% of its period, at most 5 minutes) so that
many secrets configured together do not all rotate in the same second."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from strongroom.errors import BadRequest

__all__ = ["Schedule"]

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 6))
_SEARCH_STEPS = 200_000  # days, hours and minutes skipped: years of search, then "never"


def _parse_field(text: str, low: int, high: int, name: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if body == "*":
                start, end = low, high
            elif "-" in body:
                first, last = body.split("-", 1)
                start, end = int(first), int(last)
            else:
                start = end = int(body)
        except ValueError:
            raise BadRequest(f"cron {name} field {text!r} is not a number, range or '*'") from None
        if name == "weekday" and end == 7:
            end = 7  # 7 is Sunday too
        if step < 1 or start < low or end > (7 if name == "weekday" else high) or start > end:
            raise BadRequest(f"cron {name} field {text!r} is outside {low}-{high}")
        values.update(v % 7 if name == "weekday" else v for v in range(start, end + 1, step))
    return frozenset(values)


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
            self._cron_fields()

    def _cron_fields(self) -> list[frozenset[int]]:
        assert self.cron is not None
        parts = self.cron.split()
        if len(parts) != 5:
            raise BadRequest("a cron expression has 5 fields: minute hour day month weekday")
        return [
            _parse_field(text, low, high, name)
            for text, (name, low, high) in zip(parts, _FIELDS, strict=True)
        ]

    def spread(self, key: str) -> float:
        # Within the matched minute for cron (users expect 02:30 to mean 02:30).
        window = min(self.interval * 0.05, 300.0) if self.interval is not None else 50.0
        fraction = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") / 2**32
        return window * fraction

    def next_after(self, now: float, key: str) -> float:
        """The first due time after ``now`` for the secret named ``key``."""
        if self.interval is not None:
            return now + self.interval + self.spread(key)
        minute, hour, day, month, weekday = self._cron_fields()
        t = (int(now) // 60 + 1) * 60
        for _ in range(_SEARCH_STEPS):
            tm = time.gmtime(t)
            if not (tm.tm_mday in day and tm.tm_mon in month and (tm.tm_wday + 1) % 7 in weekday):
                t += 86400 - (t % 86400)  # to the next midnight
            elif tm.tm_hour not in hour:
                t += 3600 - (t % 3600)
            elif tm.tm_min not in minute:
                t += 60
            else:
                return float(t) + self.spread(key)
        raise BadRequest(f"the cron expression {self.cron!r} never matches")

    def to_json(self) -> dict[str, object]:
        return {"interval": self.interval} if self.interval is not None else {"cron": self.cron}
