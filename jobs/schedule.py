"""When periodic jobs fire: five-field cron expressions (UTC) and fixed intervals.

Sans-I/O: pure functions of a datetime. ``parse("*/15 * * * *")`` or ``parse("@every 30s")``
gives a schedule whose ``next_after(moment)`` is the first fire time strictly after
``moment``. Cron fields are minute, hour, day of month, month, day of week (0 or 7 =
Sunday), each ``*``, a number, a range ``a-b``, a list ``a,b`` and a step ``/n``; when
both day fields are restricted either may match, as in cron. Intervals fire at multiples
of their length since the Unix epoch, so every worker computes the same periods.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from jobs.errors import InvalidSchedule

_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_NAMES = ("minute", "hour", "day of month", "month", "day of week")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_HORIZON = timedelta(days=5 * 366)  # no cron expression that can fire waits longer


class Schedule(Protocol):
    """A rule giving fire times."""

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after ``moment`` (UTC, aware)."""
        ...


@dataclass(frozen=True)
class Every:
    """Fire every ``seconds``, at multiples of it since the epoch."""

    seconds: int

    def next_after(self, moment: datetime) -> datetime:
        stamp = int(moment.timestamp()) // self.seconds * self.seconds + self.seconds
        return datetime.fromtimestamp(stamp, UTC)


@dataclass(frozen=True)
class Cron:
    """A five-field cron expression, evaluated in UTC."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    def _day_matches(self, moment: datetime) -> bool:
        weekday = (moment.weekday() + 1) % 7
        by_day, by_weekday = moment.day in self.days, weekday in self.weekdays
        if self.any_day or self.any_weekday:
            return by_day and by_weekday
        return by_day or by_weekday

    def next_after(self, moment: datetime) -> datetime:
        at = moment.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        end = at + _HORIZON
        while at < end:
            if at.month not in self.months:
                month = at.month % 12 + 1
                at = at.replace(year=at.year + (month == 1), month=month, day=1, hour=0, minute=0)
            elif not self._day_matches(at):
                at = (at + timedelta(days=1)).replace(hour=0, minute=0)
            elif at.hour not in self.hours:
                at = (at + timedelta(hours=1)).replace(minute=0)
            elif at.minute not in self.minutes:
                at += timedelta(minutes=1)
            else:
                return at
        raise InvalidSchedule("this cron expression never fires")


def parse(text: str) -> Every | Cron:
    """A schedule from its text: ``@every 30s`` (s, m, h, d) or a five-field cron line."""
    text = text.strip()
    if text.startswith("@every"):
        match = re.fullmatch(r"@every\s+(\d+)([smhd])", text)
        if match is None or int(match[1]) == 0:
            raise InvalidSchedule(f"{text!r}: expected '@every <n><s|m|h|d>' with n > 0")
        return Every(int(match[1]) * _UNITS[match[2]])
    fields = text.split()
    if len(fields) != 5:
        raise InvalidSchedule(f"{text!r}: a cron expression has five fields")
    sets = [
        _field(f, lo, hi, name) for f, (lo, hi), name in zip(fields, _BOUNDS, _NAMES, strict=True)
    ]
    weekdays = frozenset(d % 7 for d in sets[4])
    minutes, hours, days, months, _ = sets
    cron = Cron(minutes, hours, days, months, weekdays, fields[2] == "*", fields[4] == "*")
    cron.next_after(datetime(2000, 1, 1, tzinfo=UTC))  # refuses a 30th of February now
    return cron


def _field(text: str, low: int, high: int, name: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        match = re.fullmatch(r"(\*|\d+(?:-\d+)?)(?:/(\d+))?", part)
        if match is None:
            raise InvalidSchedule(f"{name}: {part!r} is not a cron field")
        span, step = match[1], int(match[2] or 1)
        if span == "*":
            start, stop = low, high
        else:
            first, _, last = span.partition("-")
            start = int(first)
            stop = int(last) if last else (high if match[2] else start)
        if step == 0 or not low <= start <= stop <= high:
            raise InvalidSchedule(f"{name}: {part!r} is outside {low}-{high}")
        values.update(range(start, stop + 1, step))
    return frozenset(values)
