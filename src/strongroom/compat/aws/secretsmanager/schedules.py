"""Secrets Manager's rotation schedules (``RotationRules``) in strongroom's terms:
``rate(N days)`` and ``rate(N hours)`` become an interval, and ``cron(min hour day month weekday
year)`` a five-field cron expression for rotation/schedule.py (UTC, as AWS's).

AWS's cron differs from the five-field one in three ways, all translated here: a sixth field for
the year (only ``*`` is taken), ``?`` for "any" in the day or weekday field, and weekdays counted
1-7 from Sunday (or named ``SUN``-``SAT``); months may be named ``JAN``-``DEC``. ``L``, ``W``
and ``#`` are refused. ``Duration`` (the rotation window, ``1h``-``24h``) is kept and shown; a
rotation runs at the start of its window."""

from __future__ import annotations

import re
from dataclasses import dataclass

from strongroom.errors import BadRequest

__all__ = ["RotationSchedule", "ScheduleError", "function_of"]

_RATE = re.compile(r"^rate\((\d{1,4}) (days?|hours?)\)$")
_CRON = re.compile(r"^cron\(([^()]{1,256})\)$")
_DURATION = re.compile(r"^(\d{1,2})h$")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# region and account are not checked, only the function's name is used (the seed's example names
# "region" and "account-id")
_FUNCTION = re.compile(
    r"^arn:aws:lambda:[^:]{1,64}:[^:]{1,64}:function:([\w-]{1,64})(:[\w$-]{1,128})?$"
)


def function_of(arn: str) -> str | None:
    """The function a ``RotationLambdaARN`` names (a version or alias suffix allowed)."""
    found = _FUNCTION.fullmatch(arn)
    return found.group(1) if found else None


class ScheduleError(BadRequest):
    aws_code = "InvalidParameterException"


@dataclass(frozen=True)
class RotationSchedule:
    expression: str
    duration: str = ""
    interval: float | None = None  # seconds
    cron: str | None = None  # five fields
    days: int = 0  # AutomaticallyAfterDays, when given so

    @classmethod
    def every_days(cls, days: int) -> RotationSchedule:
        if not 1 <= days <= 1000:
            raise ScheduleError("RotationRules.AutomaticallyAfterDays must be within 1-1000.")
        return cls("", interval=days * 86_400.0, days=days)

    @classmethod
    def parse(cls, expression: str, duration: str = "") -> RotationSchedule:
        if duration:
            found = _DURATION.fullmatch(duration)
            if found is None or not 1 <= int(found[1]) <= 24:
                raise ScheduleError("Duration is 1h to 24h.")
        window = duration
        rate = _RATE.fullmatch(expression)
        if rate is not None:
            number, unit = int(rate[1]), rate[2]
            if unit.startswith("day") and 1 <= number <= 1000:
                return cls(expression, window, interval=number * 86_400.0)
            if unit.startswith("hour") and 4 <= number <= 23:
                return cls(expression, window, interval=number * 3_600.0)
            raise ScheduleError("rate(N days) takes 1-1000 days; rate(N hours) 4-23 hours.")
        cron = _CRON.fullmatch(expression)
        if cron is None:
            raise ScheduleError(
                "ScheduleExpression is rate(N days), rate(N hours) or cron(min hour day month "
                "weekday year)."
            )
        return cls(expression, window, cron=_five_fields(cron[1]))


def _five_fields(text: str) -> str:
    fields = text.split()
    if len(fields) != 6:
        raise ScheduleError("cron(...) has six fields: minutes hours day month weekday year.")
    minute, hour, day, month, weekday, year = fields
    if year != "*":
        raise ScheduleError("cron(...)'s year field must be '*' here.")
    day = "*" if day == "?" else _names(day, (), 1, 31)
    weekday = "*" if weekday == "?" else _weekdays(weekday)
    fields = [_names(minute, (), 0, 59), _names(hour, (), 0, 23), day]
    return " ".join((*fields, _names(month, _MONTHS, 1, 12), weekday))


def _names(field: str, names: tuple[str, ...], first: int, last: int) -> str:
    """Names as numbers, and AWS's ``start/step`` as ``start-last/step``."""
    upper = field.upper()
    for index, name in enumerate(names):
        upper = upper.replace(name, str(index + first))
    upper = re.sub(r"(^|,)(\d+)/", lambda m: f"{m[1]}{m[2]}-{last}/", upper)
    if not re.fullmatch(r"[0-9*,/-]+", upper):
        raise ScheduleError(
            f"cron(...) field {field!r} is not numbers, ranges, names or '*' (L, W and # are "
            "not supported here)."
        )
    return upper


def _weekdays(field: str) -> str:
    """AWS's 1-7 (SUN-SAT) as cron's 0-6."""
    numeric = _names(field, _DAYS, 1, 7)
    parts = []
    for part in numeric.split(","):
        body, slash, step = part.partition("/")
        if body != "*":
            bounds = body.split("-")
            if not all(b.isdigit() and 1 <= int(b) <= 7 for b in bounds):
                raise ScheduleError(f"cron(...) weekday {field!r} is outside 1-7 (SUN-SAT).")
            body = "-".join(str(int(b) - 1) for b in bounds)
        parts.append(body + slash + step)
    return ",".join(parts)
