"""A workshop's schedule, as pure functions: a local start in an IANA time zone and an
optional RRULE, expanded into at most ``MAX_OCCURRENCES`` sessions in UTC.

The rule is expanded on local wall-clock times and each is then placed in the zone, so a
weekly 18:00 session stays at 18:00 local across a daylight-saving change (its UTC time
moves). A local time that does not exist (skipped at a spring change) is read with the
offset before the change, i.e. it moves forward by the gap; an ambiguous one takes the
first (daylight) reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil.rrule import rrule, rrulestr

from lms.errors import InvalidInput

MAX_OCCURRENCES = 100
"""The most sessions one workshop may have (a longer series is several workshops)."""

HORIZON = timedelta(days=2 * 366)
"""No session is scheduled further than this after the first."""

LOCAL_FORMAT = "%Y-%m-%dT%H:%M:%S"


@dataclass(frozen=True)
class Session:
    """One occurrence: its number (from 1) and its start and end in UTC."""

    number: int
    starts_at: datetime
    ends_at: datetime


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; anything else (an abbreviation, a path, a typo) is a 422."""
    if name not in _zone_names():
        raise InvalidInput(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin).")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin).") from None


@cache
def _zone_names() -> frozenset[str]:
    """The zones tzdata knows (read once: the listing walks the zone files)."""
    return frozenset(available_timezones())


def in_zone(local: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of the naive local time ``local`` in ``tz`` (see the module doc)."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _rule(text: str, start: datetime) -> rrule:
    cleaned = text.strip()
    if cleaned.upper().startswith("RRULE:"):
        cleaned = cleaned[6:]
    if not cleaned or "\n" in cleaned or "DTSTART" in cleaned.upper() or ":" in cleaned:
        raise InvalidInput("The recurrence must be one RRULE (e.g. FREQ=WEEKLY;COUNT=6).")
    try:
        parsed = rrulestr(cleaned, dtstart=start, ignoretz=True)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise InvalidInput(f"The recurrence rule is not valid: {exc}.") from None
    if not isinstance(parsed, rrule):
        raise InvalidInput("The recurrence must be one RRULE (e.g. FREQ=WEEKLY;COUNT=6).")
    return parsed


def expand(local_start: datetime, time_zone: str, minutes: int, rule: str | None) -> list[Session]:
    """Every session of the schedule in UTC; a 422 when the rule yields none or too many."""
    tz = zone(time_zone)
    if local_start.tzinfo is not None:
        raise InvalidInput("The start is a local time without an offset (the zone says it).")
    length = timedelta(minutes=minutes)
    if rule is None:
        begins = in_zone(local_start, tz)
        return [Session(1, begins, begins + length)]
    horizon = local_start + HORIZON
    sessions: list[Session] = []
    try:
        for local in _rule(rule, local_start):
            if local > horizon:
                break
            if len(sessions) == MAX_OCCURRENCES:
                raise InvalidInput(
                    f"The recurrence yields more than {MAX_OCCURRENCES} sessions: "
                    "add COUNT or UNTIL."
                )
            begins = in_zone(local, tz)
            sessions.append(Session(len(sessions) + 1, begins, begins + length))
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(f"The recurrence rule is not valid: {exc}.") from None
    if not sessions:
        raise InvalidInput("The recurrence yields no session.")
    return sessions


def parse_local(text: str) -> datetime:
    """A stored local start back as a naive datetime."""
    return datetime.strptime(text, LOCAL_FORMAT)
