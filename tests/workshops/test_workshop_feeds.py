"""Workshop calendar feeds and reminders on a real node: the iCalendar a subscribed
calendar app reads, parsed by a standard parser (icalendar), with its VTIMEZONE and the
right instants across a daylight-saving change; signed links that need no login, refuse
tampering and end with the person's sessions; reminders e-mailed to seat holders through a
real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from icalendar import Calendar

from kits.nodes import PASSWORD, Node
from kits.smtp import SmtpServer

pytestmark = pytest.mark.postgres


def call(node: Node, token: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
    with node.client(token) as client:
        return client.request(method, path, **kw)


def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, f"{response.status_code} {response.text}"
    return response.json()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def events(body: bytes) -> tuple[Calendar, list[Any]]:
    parsed = Calendar.from_ical(body)
    return parsed, [c for c in parsed.walk("VEVENT")]


def test_feeds_across_dst_signed_and_revocable(workshop_node: Node) -> None:
    _, teacher = workshop_node.register("instructor")
    email, learner = workshop_node.register()
    body = {
        "title": "Evening SQL",
        "time_zone": "America/New_York",
        "start": "2030-10-28T18:30:00",
        "duration_minutes": 60,
        "rrule": "FREQ=WEEKLY;COUNT=3",
        "capacity": 5,
    }
    created = ok(call(workshop_node, teacher, "POST", "/api/v1/workshops", json=body))
    ok(call(workshop_node, learner, "POST", f"/api/v1/workshops/{created['id']}/registrations"))

    link = ok(
        call(workshop_node, learner, "GET", f"/api/v1/workshops/{created['id']}/calendar-feed")
    )
    assert link["webcal"].startswith("webcal://")
    answer = call(workshop_node, None, "GET", path_of(link["url"]))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    parsed, found = events(answer.content)
    assert [tz["TZID"] for tz in parsed.walk("VTIMEZONE")] == ["America/New_York"]
    # EDT (-04:00) until 3 November 2030, EST (-05:00) after: 18:30 local each week.
    starts = [e.decoded("DTSTART") for e in found]
    assert [s.astimezone(UTC) for s in starts] == [
        datetime(2030, 10, 28, 22, 30, tzinfo=UTC),
        datetime(2030, 11, 4, 23, 30, tzinfo=UTC),
        datetime(2030, 11, 11, 23, 30, tzinfo=UTC),
    ]
    assert {str(s.tzinfo) for s in starts} == {"America/New_York"}
    assert all(s.hour == 18 and s.minute == 30 for s in starts)
    assert {str(e["SUMMARY"]) for e in found} == {"Evening SQL"}

    # Tampered or borrowed signatures find nothing.
    wrong = path_of(link["url"]).replace("sig=", "sig=x")
    assert call(workshop_node, None, "GET", wrong).status_code == 404
    # A signature that is not ASCII (schemathesis found a 500) is as wrong as any other.
    forged = path_of(link["url"]).split("sig=")[0] + "sig=%C2%AA"
    assert call(workshop_node, None, "GET", forged).status_code == 404
    assert call(workshop_node, None, "GET", path_of(link["url"]).split("?")[0]).status_code == 422

    mine = ok(call(workshop_node, learner, "GET", "/api/v1/users/me/calendar-feed"))
    feed = call(workshop_node, None, "GET", path_of(mine["url"]))
    assert feed.status_code == 200
    assert len(events(feed.content)[1]) == 3
    teacher_feed = ok(call(workshop_node, teacher, "GET", "/api/v1/users/me/calendar-feed"))
    assert events(call(workshop_node, None, "GET", path_of(teacher_feed["url"])).content)[1] == []
    other_user = path_of(mine["url"]).replace(
        urlsplit(mine["url"]).path.rsplit("/", 1)[1].removesuffix(".ics"),
        urlsplit(teacher_feed["url"]).path.rsplit("/", 1)[1].removesuffix(".ics"),
    )
    assert call(workshop_node, None, "GET", other_user).status_code == 404

    # A new password ends the old feed link; the new one works.
    changed = call(
        workshop_node,
        learner,
        "POST",
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": PASSWORD + "-2"},
    )
    assert changed.status_code < 300, changed.text
    assert call(workshop_node, None, "GET", path_of(mine["url"])).status_code == 404
    fresh = workshop_node.login(email, PASSWORD + "-2")
    renewed = ok(call(workshop_node, fresh, "GET", "/api/v1/users/me/calendar-feed"))
    assert renewed["url"] != mine["url"]
    assert call(workshop_node, None, "GET", path_of(renewed["url"])).status_code == 200


def test_reminders_reach_seat_holders_by_email(workshop_node: Node, smtp: SmtpServer) -> None:
    _, teacher = workshop_node.register("instructor")
    seated_email, seated = workshop_node.register()
    waiting_email, waiting = workshop_node.register()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    soon = {"start": (now + timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%M:%S")}
    later = {"start": (now + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S")}
    for title, when in (("Soon", soon), ("Later", later)):
        body = {"title": title, "time_zone": "UTC", "duration_minutes": 30, "capacity": 1}
        created = ok(call(workshop_node, teacher, "POST", "/api/v1/workshops", json=body | when))
        path = f"/api/v1/workshops/{created['id']}/registrations"
        ok(call(workshop_node, seated, "POST", path))
        ok(call(workshop_node, waiting, "POST", path))
    hour = smtp.wait_for(seated_email, where=lambda m: "Soon starts within the hour" in m.subject)
    day = smtp.wait_for(seated_email, where=lambda m: "Later starts within a day" in m.subject)
    assert "Session 1 of Soon starts at" in hour[0].text
    assert "(UTC)" in day[0].text
    # Waitlisted people hold no seat: no reminder; and each goes out once.
    assert not [m for m in smtp.to(waiting_email) if "starts" in m.subject]
    inbox = ok(call(workshop_node, seated, "GET", "/api/v1/notifications"))
    titles = [n["title"] for n in inbox["items"]]
    assert titles.count("Soon starts within the hour") == 1
    assert titles.count("Later starts within a day") == 1
