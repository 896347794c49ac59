"""iCalendar feeds of workshops: one per workshop and one per person, subscribed to by URL
from any calendar app (which sends no credentials), hence signed links.

A feed link carries an HMAC-SHA256 with the node's secret over what it shows: the workshop,
or the person and their ``token_version``, so a password change or "sign out everywhere"
also ends the person's old feed link. Each session is a VEVENT whose times are in the
organiser's zone with its VTIMEZONE included, so calendar apps place every session right
across daylight-saving changes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from persistence.models import Workshop, WorkshopOccurrence

PRODID = "-//liveclass//workshops//EN"


def _mac(secret: str, *parts: str) -> str:
    message = "\n".join(("calendar", *parts)).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def workshop_path(secret: str, workshop_id: uuid.UUID) -> str:
    """The signed path of a workshop's feed."""
    return f"/api/v1/workshops/{workshop_id}/calendar.ics?sig={_mac(secret, 'w', str(workshop_id))}"


def person_path(secret: str, user_id: uuid.UUID, version: int) -> str:
    """The signed path of a person's feed (every workshop they hold or await a seat in)."""
    sig = _mac(secret, "u", str(user_id), str(version))
    return f"/api/v1/calendars/{user_id}.ics?v={version}&sig={sig}"


def workshop_signed(secret: str, workshop_id: uuid.UUID, signature: str) -> bool:
    """Whether ``signature`` is the one of this workshop's feed."""
    return _same(_mac(secret, "w", str(workshop_id)), signature)


def person_signed(secret: str, user_id: uuid.UUID, version: int, signature: str) -> bool:
    """Whether ``signature`` is the one of this person's feed at ``version``."""
    return _same(_mac(secret, "u", str(user_id), str(version)), signature)


def _same(expected: str, given: str) -> bool:
    """A constant-time comparison that takes any text (compare_digest refuses non-ASCII
    str with a TypeError: a forged ``sig=ª`` was a 500)."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def calendar(
    name: str,
    sessions: Iterable[tuple[Workshop, WorkshopOccurrence]],
    now: datetime,
    base_url: str,
) -> bytes:
    """The feed: one VEVENT per session, its zone's VTIMEZONE, as bytes."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for workshop, occurrence in sessions:
        tz = ZoneInfo(workshop.time_zone)
        event = Event()
        event.add("uid", f"{workshop.id}-{occurrence.number}@liveclass")
        event.add("dtstamp", now)
        event.add("dtstart", occurrence.starts_at.astimezone(tz))
        event.add("dtend", occurrence.ends_at.astimezone(tz))
        event.add("summary", workshop.title)
        if workshop.description:
            event.add("description", workshop.description[:2000])
        event.add("url", f"{base_url}/workshops/{workshop.id}")
        event.add("status", "CANCELLED" if workshop.status == "cancelled" else "CONFIRMED")
        cal.add_component(event)
    cal.add_missing_timezones()
    data: bytes = cal.to_ical()
    return data
