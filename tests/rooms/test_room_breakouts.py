"""Breakout rooms: create with assignments (by hand and automatic), assign, open with a timer,
broadcast into every breakout room, close (breakout sockets close with 4010)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from kits.nodes import Node
from kits.opener import RoomOpener
from kits.rooms import (
    Person,
    RoomClient,
    of,
    register,
    rest,
)


@dataclass
class People:
    host: Person
    a: Person
    b: Person
    c: Person


@pytest.fixture(scope="module")
def people(room_node: Node) -> People:
    return People(
        register(room_node, "instructor"),
        register(room_node),
        register(room_node),
        register(room_node),
    )


async def classroom(open_room: RoomOpener, people: People) -> tuple[str, list[RoomClient]]:
    return await open_room(
        people.host,
        members=[(p, "participant") for p in (people.a, people.b, people.c)],
        enter=(people.host, people.a, people.b, people.c),
    )


async def test_breakout_lifecycle(room_node: Node, people: People, open_room: RoomOpener) -> None:
    room, clients = await classroom(open_room, people)
    host, a, b, c = clients
    await a.error({"type": "breakout.create", "count": 2}, "forbidden")
    reply = await host.ack(
        {
            "type": "breakout.create",
            "count": 2,
            "names": ["Red"],
            "assignments": {a.user_id: 0},
            "auto": True,
        }
    )
    for client in clients:
        created = await client.next(of("breakout.created"))
        assert [r["name"] for r in created["rooms"]] == ["Red", "Room 2"]
        assert created["rooms"] == reply["rooms"]
        # a placed by hand; b and c spread over the rooms; the host is not placed.
        assignments = created["assignments"]
        assert assignments[a.user_id] == 0
        assert sorted([assignments[b.user_id], assignments[c.user_id]]) == [0, 1]
        assert host.user_id not in assignments
    red, blue = (r["id"] for r in reply["rooms"])
    await host.error({"type": "breakout.create", "count": 1}, "breakouts-active")
    # Move b into Red and c into Room 2 explicitly.
    await host.ack({"type": "breakout.assign", "user_id": b.user_id, "index": 0})
    await host.ack({"type": "breakout.assign", "user_id": c.user_id, "index": 1})
    assigned = await a.next(of("breakout.assigned", user_id=b.user_id))
    assert assigned["index"] == 0
    await host.error({"type": "breakout.assign", "user_id": c.user_id, "index": 5}, "not-found")

    # Entry follows the assignments: c may not enter Red; hosts may enter any.
    refused = await rest(room_node, people.c, "POST", f"/api/v1/rooms/{red}/join")
    assert refused.status_code == 404
    a_red = await open_room.enter(people.a, red)
    assert a_red.me["role"] == "participant"
    assert a_red.snapshot["room"]["parent_id"] == room
    assert a_red.snapshot["room"]["title"] == "Red"
    c_blue = await open_room.enter(people.c, blue)
    host_red = await open_room.enter(people.host, red)
    assert host_red.me["role"] == "host"
    # No breakouts inside breakouts.
    await host_red.error({"type": "breakout.create", "count": 2}, "invalid")

    # Open with a timer.
    await host.ack({"type": "breakout.open", "duration_seconds": 900})
    opened = await b.next(of("breakout.opened"))
    ends = datetime.fromisoformat(opened["ends_at"]) - datetime.fromisoformat(opened["at"])
    assert ends == timedelta(seconds=900)
    await host.ack({"type": "breakout.open"})  # already open: nothing changes
    # A broadcast reaches the main room and every breakout room.
    await host.ack({"type": "breakout.broadcast", "text": "Five minutes left"})
    for client in (*clients, a_red, c_blue, host_red):
        event = await client.next(of("breakout.broadcast"))
        assert (event["text"], event["name"], event["by"]) == (
            "Five minutes left",
            people.host.name,
            host.user_id,
        )
        assert isinstance(event["seq"], int)
    late = await open_room.enter(people.host, room)
    snap = late.snapshot["breakouts"]
    assert snap["status"] == "open"
    assert snap["ends_at"] == opened["ends_at"]
    assert snap["assignments"][b.user_id] == 0

    # Closing brings everyone back: the breakout rooms end.
    await host.ack({"type": "breakout.close"})
    for client in (*clients, late):
        await client.next(of("breakout.closed"))
    for client in (a_red, c_blue, host_red):
        closed = await client.next(of("breakout.closed"))
        assert closed["seq"] > 0
        assert "by" in closed
        assert await client.closed() == (4010, "room ended")
    again = await rest(room_node, people.a, "POST", f"/api/v1/rooms/{red}/join")
    assert again.status_code == 410
    await host.error({"type": "breakout.close"}, "no-breakouts")
    # A new round may start.
    await host.ack({"type": "breakout.create", "count": 1, "auto": True})
    assert (await a.next(of("breakout.created")))["assignments"] == {
        a.user_id: 0,
        b.user_id: 0,
        c.user_id: 0,
    }


async def test_breakout_commands_need_breakouts(
    room_node: Node, people: People, open_room: RoomOpener
) -> None:
    _, clients = await classroom(open_room, people)
    host, a, _, _ = clients
    for message in (
        {"type": "breakout.assign", "user_id": a.user_id, "index": 0},
        {"type": "breakout.open"},
        {"type": "breakout.broadcast", "text": "hello?"},
        {"type": "breakout.close"},
    ):
        await host.error(message, "no-breakouts")
        await a.error(message, "forbidden")
