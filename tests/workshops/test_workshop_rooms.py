"""Each workshop session's live room on a real node, on SQLite and PostgreSQL: opened by
its job at the start with the seat holders admitted and the organiser as host; the
waitlisted, the unconfirmed and strangers refused with a reason (and by the room itself);
attendance written back per seat holder when the organiser ends the room and when the
session's end comes (the close job), with its event; only the organiser reads it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from kits.nodes import Node, node_sessions
from kits.rooms import Person, RoomClient, close_all, of, register, rest
from kits.waiting import eventually
from persistence.models import DomainEvent, Job, RoomEvent, WorkshopOccurrence

pytestmark = pytest.mark.postgres

ZONE = "America/New_York"


def local_in(seconds: int) -> str:
    """The local time in ZONE ``seconds`` from now, as the API takes a start."""
    at = datetime.now(UTC) + timedelta(seconds=seconds)
    return at.astimezone(ZoneInfo(ZONE)).replace(tzinfo=None, microsecond=0).isoformat()


async def ok(node: Node, who: Person, method: str, path: str, **kw: Any) -> Any:
    response = await rest(node, who, method, path, **kw)
    assert response.status_code < 300, f"{response.status_code} {response.text}"
    return response.json()


async def refused(node: Node, who: Person, path: str, status: int) -> dict[str, Any]:
    response = await rest(node, who, "POST", path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


async def schedule(node: Node, teacher: Person, **fields: Any) -> dict[str, Any]:
    body = {
        "title": "Live pandas",
        "time_zone": ZONE,
        "start": local_in(3600),
        "duration_minutes": 30,
        "capacity": 1,
        **fields,
    }
    created: dict[str, Any] = await ok(node, teacher, "POST", "/api/v1/workshops", json=body)
    return created


async def opened(node: Node, who: Person, workshop_id: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def check() -> bool:
        found.update(await ok(node, who, "GET", f"/api/v1/workshops/{workshop_id}"))
        return found["occurrences"][0]["opened_at"] is not None

    await eventually(check, "the session's room to open", within=60, interval=0.3)
    return found


async def attendance(node: Node, who: Person, workshop_id: str, final: bool) -> dict[str, Any]:
    path = f"/api/v1/workshops/{workshop_id}/sessions/1/attendance"
    found: dict[str, Any] = {}

    async def check() -> bool:
        found.update(await ok(node, who, "GET", path))
        return bool(found["final"]) == final

    await eventually(check, "the session's attendance", within=60, interval=0.3)
    return found


async def test_session_room_admits_seat_holders_and_records_attendance(
    workshop_node: Node,
) -> None:
    node = workshop_node
    teacher, seated, waiting, stranger = (
        register(node, "instructor"),
        register(node),
        register(node),
        register(node),
    )
    created = await schedule(node, teacher)
    wid = created["id"]
    regs = f"/api/v1/workshops/{wid}/registrations"
    mine = await ok(node, seated, "POST", regs)
    assert mine["status"] == "registered"
    assert (await ok(node, waiting, "POST", regs))["status"] == "waitlisted"
    join = f"/api/v1/workshops/{wid}/sessions/1/join"

    # Before the start: nobody's room yet; the waitlisted and strangers are told why not.
    early = (await rest(node, seated, "POST", join)).json()
    if early.get("reason") is not None:  # the start may already have passed on a slow run
        assert early["reason"] == "not_open" and early["starts_at"]
    listed = await refused(node, waiting, join, 403)
    assert (listed["reason"], listed["waitlist_position"]) == ("waitlisted", 1)
    assert (await refused(node, stranger, join, 403))["reason"] == "not_registered"
    await refused(node, seated, f"/api/v1/workshops/{wid}/sessions/2/join", 404)
    await refused(node, seated, f"/api/v1/workshops/{uuid.uuid4()}/sessions/1/join", 404)

    # At the start the job opens the room: the seat holder and the organiser get in.
    await start_session_now(node, wid)
    seen = await opened(node, seated, wid)
    assert seen["occurrences"][0]["closed_at"] is None
    entry = await ok(node, seated, "POST", join)
    assert entry["host"] is False and entry["session"] == 1
    room = str(entry["room_id"])
    host_entry = await ok(node, teacher, "POST", join)
    assert host_entry["host"] is True and host_entry["room_id"] == room
    await refused(node, waiting, join, 403)
    await refused(node, stranger, join, 403)
    # The room itself refuses them too (they were never invited).
    await refused(node, waiting, f"/api/v1/rooms/{room}/join", 404)
    await refused(node, stranger, f"/api/v1/rooms/{room}/join", 404)
    host_token = await ok(node, teacher, "POST", f"/api/v1/rooms/{room}/join")
    assert host_token["role"] == "host"

    host = await RoomClient.enter(node, teacher, room)
    learner = await RoomClient.enter(node, seated, room)
    try:
        # The organiser sees who is in while it runs; nobody else reads attendance.
        live = await attendance(node, teacher, wid, final=False)
        assert [(r["user_id"], r["attended"]) for r in live["items"]] == [(seated.user_id, True)]
        path = f"/api/v1/workshops/{wid}/sessions/1/attendance"
        assert (await rest(node, seated, "GET", path)).status_code == 403
        assert (await rest(node, stranger, "GET", path)).status_code == 403
        # The organiser ends the room: the session closes and its attendance is recorded.
        await asyncio.sleep(1.1)
        ended = await rest(node, teacher, "POST", f"/api/v1/rooms/{room}/end")
        assert ended.status_code == 204, ended.text
        final = await attendance(node, teacher, wid, final=True)
    finally:
        await host.close()
        await learner.close()
    [row] = final["items"]
    assert (row["user_id"], row["registration_id"], row["attended"]) == (
        seated.user_id,
        mine["id"],
        True,
    )
    assert row["seconds"] >= 1 and row["minutes"] == row["seconds"] // 60 and row["name"]
    assert final["room_id"] == room
    assert (await refused(node, seated, join, 409))["reason"] == "ended"
    closed = await ok(node, seated, "GET", f"/api/v1/workshops/{wid}")
    assert closed["occurrences"][0]["closed_at"] is not None
    events = await recorded_events(node, wid)
    assert len(events) == 1
    [attendee] = events[0]["attendees"]
    assert (attendee["user_id"], attendee["attended"]) == (seated.user_id, True)


async def test_close_job_records_absence_at_the_session_end(workshop_node: Node) -> None:
    node = workshop_node
    teacher, absent, present = register(node, "instructor"), register(node), register(node)
    created = await schedule(node, teacher, capacity=2)
    wid = created["id"]
    for who in (absent, present):
        await ok(node, who, "POST", f"/api/v1/workshops/{wid}/registrations")
    await start_session_now(node, wid)
    await opened(node, present, wid)
    entry = await ok(node, present, "POST", f"/api/v1/workshops/{wid}/sessions/1/join")
    client = await RoomClient.enter(node, present, str(entry["room_id"]))
    try:
        await asyncio.sleep(1.1)
        await end_session_now(node, wid)  # the clock reaches the session's end
        final = await attendance(node, teacher, wid, final=True)
    finally:
        await client.close()
    by_user = {r["user_id"]: r for r in final["items"]}
    assert by_user[absent.user_id]["attended"] is False
    assert by_user[absent.user_id]["seconds"] == 0
    assert by_user[present.user_id]["attended"] is True
    assert by_user[present.user_id]["seconds"] >= 1
    assert len(await recorded_events(node, wid)) == 1


async def test_session_end_warns_then_closes_the_occupied_room(workshop_node: Node) -> None:
    """At the session's end the people still in its room are warned over the room channel,
    then (after the grace period, 5 s here) every socket closes with 4010 ``session_over``,
    nobody gets back in, and attendance is written back for those who were still there."""
    node = workshop_node
    teacher, stays, leaves, absent = (
        register(node, "instructor"),
        register(node),
        register(node),
        register(node),
    )
    wid = (await schedule(node, teacher, capacity=3))["id"]
    for who in (stays, leaves, absent):
        await ok(node, who, "POST", f"/api/v1/workshops/{wid}/registrations")
    await start_session_now(node, wid)
    await opened(node, stays, wid)
    join = f"/api/v1/workshops/{wid}/sessions/1/join"
    room = str((await ok(node, stays, "POST", join))["room_id"])
    await ok(node, leaves, "POST", join)
    await ok(node, teacher, "POST", join)
    host = await RoomClient.enter(node, teacher, room)
    learner = await RoomClient.enter(node, stays, room)
    gone = await RoomClient.enter(node, leaves, room)
    try:
        await asyncio.sleep(1.1)
        await gone.close()
        await end_session_now(node, wid)
        for client in (host, learner):
            warning = await client.next(of("room.closing"), within=60)
            assert warning["reason"] == "session_over" and warning["by"] is None
            assert datetime.fromisoformat(warning["closes_at"]) > datetime.fromisoformat(
                warning["at"]
            )
        # Someone coming back during the grace period learns it from the snapshot.
        gone = await RoomClient.enter(node, leaves, room)
        assert gone.welcome is not None
        closing = gone.welcome["snapshot"]["room"]["closing"]
        assert closing == {"closes_at": warning["closes_at"], "reason": "session_over"}
        for client in (host, learner):
            assert await client.closed(within=60) == (4010, "session_over")
            assert client.received(of("room.ended"))[0]["reason"] == "session_over"
        final = await attendance(node, teacher, wid, final=True)
    finally:
        await close_all([host, learner, gone])
    by_user = {r["user_id"]: r for r in final["items"]}
    assert by_user[stays.user_id]["attended"] is True and by_user[stays.user_id]["seconds"] >= 1
    assert by_user[leaves.user_id]["attended"] is True
    assert (by_user[absent.user_id]["attended"], by_user[absent.user_id]["seconds"]) == (False, 0)
    assert len(await recorded_events(node, wid)) == 1
    # The room is over for everyone: the session refuses joins, the room's channel too.
    assert (await refused(node, stays, join, 409))["reason"] == "ended"
    again = await rest(node, stays, "POST", f"/api/v1/rooms/{room}/join")
    assert again.status_code == 410, again.text


async def test_an_empty_room_ends_at_the_session_end_without_a_warning(
    workshop_node: Node,
) -> None:
    node = workshop_node
    teacher, absent = register(node, "instructor"), register(node)
    wid = (await schedule(node, teacher))["id"]
    await ok(node, absent, "POST", f"/api/v1/workshops/{wid}/registrations")
    await start_session_now(node, wid)
    await opened(node, absent, wid)
    entry = await ok(node, teacher, "POST", f"/api/v1/workshops/{wid}/sessions/1/join")
    room = str(entry["room_id"])
    await end_session_now(node, wid)
    final = await attendance(node, teacher, wid, final=True)
    assert [(r["user_id"], r["attended"]) for r in final["items"]] == [(absent.user_id, False)]
    assert (await rest(node, teacher, "POST", f"/api/v1/rooms/{room}/join")).status_code == 410
    async with node_sessions(node) as sessions, sessions() as session:
        kinds = await session.scalars(
            select(RoomEvent.type).where(RoomEvent.room_id == uuid.UUID(room))
        )
        logged = list(kinds)
    assert "room.ended" in logged and "room.closing" not in logged


async def start_session_now(node: Node, workshop_id: str) -> None:
    """Move the session's start, and its opening job, to now (the seats are taken: a start
    a few seconds ahead raced the registrations on a loaded machine)."""
    await _move_session(node, workshop_id, "starts_at", "workshops.open_session")


async def end_session_now(node: Node, workshop_id: str) -> None:
    """Move the session's end, and its close job, to now."""
    await _move_session(node, workshop_id, "ends_at", "workshops.close_session")


async def _move_session(node: Node, workshop_id: str, column: str, job: str) -> None:
    now = datetime.now(UTC)
    async with node_sessions(node) as sessions, sessions() as session:
        occurrence = (
            await session.execute(
                select(WorkshopOccurrence).where(
                    WorkshopOccurrence.workshop_id == uuid.UUID(workshop_id)
                )
            )
        ).scalar_one()
        setattr(occurrence, column, now)
        jobs = await session.execute(select(Job).where(Job.name == job))
        ids = [j.id for j in jobs.scalars() if j.args.get("occurrence_id") == occurrence.id]
        await session.execute(update(Job).where(Job.id.in_(ids)).values(run_at=now))
        await session.commit()


async def recorded_events(node: Node, workshop_id: str) -> list[dict[str, Any]]:
    async with node_sessions(node) as sessions, sessions() as session:
        rows = await session.execute(
            select(DomainEvent).where(
                DomainEvent.type == "workshops.attendance_recorded",
                DomainEvent.aggregate_id == workshop_id,
            )
        )
        return [dict(r.payload) for r in rows.scalars()]


async def test_edit_catalogue_filters_and_my_sessions(workshop_node: Node) -> None:
    node = workshop_node
    teacher, other_teacher, first, second, third = (
        register(node, "instructor"),
        register(node, "instructor"),
        register(node),
        register(node),
        register(node),
    )
    word = uuid.uuid4().hex[:8]
    created = await schedule(
        node,
        teacher,
        title=f"Weekly {word}",
        start=local_in(7 * 86400),
        rrule="FREQ=WEEKLY;COUNT=2",
        waitlist_capacity=1,
    )
    wid, path = created["id"], f"/api/v1/workshops/{created['id']}"
    for who in (first, second):
        await ok(node, who, "POST", f"{path}/registrations")

    # The catalogue's filters: by title, then only those with a seat or waitlist place.
    found = await ok(node, third, "GET", "/api/v1/workshops", params={"q": word.upper()})
    assert [w["id"] for w in found["items"]] == [wid]
    assert found["items"][0]["waitlist_length"] == 1
    full = await ok(node, third, "GET", "/api/v1/workshops", params={"q": word, "available": True})
    assert full["items"] == []
    upcoming = await ok(
        node, third, "GET", "/api/v1/workshops", params={"q": word, "upcoming": True}
    )
    assert [w["id"] for w in upcoming["items"]] == [wid]

    # Only the organiser edits; fewer seats than are taken is refused; more are offered.
    assert (await rest(node, other_teacher, "PATCH", path, json={"title": "x"})).status_code == 403
    assert (await rest(node, first, "PATCH", path, json={"title": "x"})).status_code == 403
    fewer = await rest(node, teacher, "PATCH", path, json={"capacity": 0})
    assert fewer.status_code == 422
    edited = await ok(
        node,
        teacher,
        "PATCH",
        path,
        json={"capacity": 2, "description": "More room", "title": None},
    )
    assert (edited["capacity"], edited["description"], edited["title"]) == (
        2,
        "More room",
        f"Weekly {word}",
    )
    offered = await ok(node, second, "GET", path)
    assert offered["my_registration"]["status"] == "offered"
    back = await rest(node, teacher, "PATCH", path, json={"capacity": 1})
    assert back.status_code == 409 and back.json()["reason"] == "seats_taken"

    # My sessions: both sessions for a seat holder and for the organiser, none for others.
    mine = await ok(node, first, "GET", "/api/v1/users/me/workshop-sessions")
    assert [(s["workshop_id"], s["session"], s["status"]) for s in mine["items"]] == [
        (wid, 1, "registered"),
        (wid, 2, "registered"),
    ]
    paged = await ok(
        node, teacher, "GET", "/api/v1/users/me/workshop-sessions", params={"limit": 1}
    )
    assert paged["items"][0]["status"] == "organiser" and paged["next"]
    rest_of = await ok(
        node, teacher, "GET", "/api/v1/users/me/workshop-sessions", params={"cursor": paged["next"]}
    )
    assert [s["session"] for s in rest_of["items"]] == [2]
    assert (await ok(node, third, "GET", "/api/v1/users/me/workshop-sessions"))["items"] == []
