"""Presence and attendance on SQLite and PostgreSQL: every stay is recorded (JSON and CSV),
several tabs count as one stay, and chat is stored with its edits and reactions."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest

from kits.nodes import PASSWORD, Node
from kits.opener import RoomOpeners
from kits.rooms import (
    Person,
    chat_with,
    close_all,
    invite,
    of,
    register,
    rest,
)

pytestmark = pytest.mark.postgres


@dataclass
class People:
    host: Person
    a: Person
    b: Person
    formula: Person  # a name a spreadsheet would run


def register_named(node: Node, name: str) -> Person:
    email = f"named-{uuid.uuid4().hex[:10]}@example.org"
    with httpx.Client(base_url=node.url, timeout=30.0) as client:
        created = client.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": name}
        )
        assert created.status_code == 201, created.text
    token = node.login(email)
    return Person(email, token, str(created.json()["id"]), name)


@pytest.fixture(scope="module")
def people(node: Node) -> People:
    return People(
        register(node, "instructor"),
        register(node),
        register(node),
        register_named(node, '=HYPERLINK("http://evil")'),
    )


async def attendance(node: Node, host: Person, room: str) -> list[dict[str, object]]:
    response = await rest(node, host, "GET", f"/api/v1/rooms/{room}/attendance")
    assert response.status_code == 200, response.text
    rows: list[dict[str, object]] = response.json()
    return rows


async def test_presence_events_and_attendance(
    node: Node, people: People, rooms_on: RoomOpeners
) -> None:
    open_room = rooms_on(node)
    room, [host, a] = await open_room(
        people.host,
        members=[(people.a, "participant"), (people.formula, "participant")],
        enter=(people.host, people.a),
    )
    arrived = await host.next(of("presence.connected", conn_id=a.conn_id))
    assert arrived["user"] == {"user_id": a.user_id, "name": people.a.name, "role": "participant"}
    assert arrived["first"] is True
    assert arrived["node"]
    assert arrived["by"] == a.user_id
    # A second tab is not a second arrival, and closing one tab is not leaving.
    token = await open_room.token(people.a, room)
    tab = await open_room.open(room, token)
    assert (await host.next(of("presence.connected", conn_id=tab.conn_id)))["first"] is False
    [me] = [p for p in tab.snapshot["participants"] if p["user_id"] == a.user_id]
    assert me["connections"] == 2
    await tab.close()
    gone = await host.next(of("presence.disconnected", conn_id=tab.conn_id))
    assert (gone["user_id"], gone["last"]) == (a.user_id, False)
    await a.close()
    left = await host.next(of("presence.disconnected", conn_id=a.conn_id))
    assert left["last"] is True

    rows = await attendance(node, people.host, room)
    by_user = {r["user_id"]: r for r in rows}
    assert set(by_user) == {host.user_id, a.user_id}
    mine = by_user[a.user_id]
    assert (mine["name"], mine["role"]) == (people.a.name, "participant")
    assert mine["left_at"] is not None
    joined_at = datetime.fromisoformat(str(mine["joined_at"]))
    left_at = datetime.fromisoformat(str(mine["left_at"]))
    assert left_at >= joined_at
    assert isinstance(mine["seconds"], int)
    assert mine["seconds"] >= 0
    assert by_user[host.user_id]["left_at"] is None
    assert by_user[host.user_id]["role"] == "host"

    # Coming back is a second stay; the CSV lists every stay and defuses formulas.
    again = await open_room.enter(people.a, room)
    formula = await open_room.enter(people.formula, room)
    await host.next(of("presence.connected", conn_id=formula.conn_id))
    rows = await attendance(node, people.host, room)
    assert [r["user_id"] for r in rows].count(a.user_id) == 2
    exported = await rest(
        node, people.host, "GET", f"/api/v1/rooms/{room}/attendance", params={"format": "csv"}
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert f"attendance-{room}.csv" in exported.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(exported.text)))
    assert table[0] == ["user_id", "name", "role", "joined_at", "left_at", "seconds"]
    assert len(table) == 1 + 4
    names = [row[1] for row in table[1:]]
    assert "'" + people.formula.name in names
    assert people.formula.name not in names
    refused = await rest(node, people.a, "GET", f"/api/v1/rooms/{room}/attendance")
    assert refused.status_code == 403
    bad = await rest(
        node, people.host, "GET", f"/api/v1/rooms/{room}/attendance", params={"format": "xls"}
    )
    assert bad.status_code == 422

    # Ending the room closes every open stay.
    await host.send({"type": "room.end"})
    for client in (host, again, formula):
        await client.closed()
    rows = await attendance(node, people.host, room)
    assert all(r["left_at"] is not None for r in rows)


async def test_tabs_closing_together_leave_once(
    node: Node, people: People, rooms_on: RoomOpeners
) -> None:
    """Two tabs of one person closing at the same moment: exactly one `last: true`."""
    open_room = rooms_on(node)
    room, [host] = await open_room(
        people.host, members=[(people.b, "participant")], enter=[people.host]
    )
    token = await open_room.token(people.b, room)
    tabs = [await open_room.open(room, token) for _ in range(3)]
    await asyncio.gather(*(tab.close() for tab in tabs))
    for tab in tabs:
        await host.next(of("presence.disconnected", conn_id=tab.conn_id))
    lasts = [m["last"] for m in host.received(of("presence.disconnected"))]
    assert lasts.count(True) == 1 and lasts[-1] is True, lasts
    rows = await attendance(node, people.host, room)
    [stay] = [r for r in rows if r["user_id"] == tabs[0].user_id]
    assert stay["left_at"] is not None
    late = await open_room.enter(people.host, room)
    assert [p["user_id"] for p in late.snapshot["participants"]] == [host.user_id]


async def test_chat_is_stored(node: Node, people: People, rooms_on: RoomOpeners) -> None:
    """Chat, edits, reactions and deletions survive the room being unloaded and reloaded."""
    open_room = rooms_on(node)
    room, [host, a] = await open_room(
        people.host, members=[(people.a, "participant")], enter=(people.host, people.a)
    )
    kept = (await a.ack({"type": "chat.send", "text": "stored — ünïcödé ✓"}))["message_id"]
    await a.ack({"type": "chat.edit", "message_id": kept, "text": "stored, edited ✓"})
    await host.ack({"type": "chat.react", "message_id": kept, "emoji": "✅"})
    gone = (await a.ack({"type": "chat.send", "text": "to be deleted"}))["message_id"]
    await host.ack({"type": "chat.delete", "message_id": gone})
    private = (await a.ack({"type": "chat.send", "text": "dm", "to": host.user_id}))["message_id"]
    await a.next(of("chat.deleted"))
    await close_all([host, a])
    await unloaded(node)
    back = await open_room.enter(people.a, room)
    chat = {m["id"]: m for m in back.snapshot["chat"]}
    assert list(chat) == [kept, gone, private]
    assert chat[kept]["text"] == "stored, edited ✓"
    assert chat[kept]["edited_at"] is not None
    assert chat[kept]["reactions"] == {"✅": [host.user_id]}
    assert chat[kept]["author_id"] == a.user_id
    assert (chat[gone]["deleted"], chat[gone]["text"]) == (True, "")
    assert chat[private]["to_user_id"] == host.user_id
    # Private messages stay private after a reload.
    host2 = await open_room.enter(people.host, room)
    assert private in [m["id"] for m in host2.snapshot["chat"]]
    await invite(node, people.host, room, people.b, "participant")
    b = await open_room.enter(people.b, room)
    assert private not in [m["id"] for m in b.snapshot["chat"]]
    await back.ack({"type": "chat.send", "text": "after reload"})
    await b.next(chat_with("after reload"))


async def unloaded(node: Node) -> None:
    """Wait until the node has no room loaded (every session ended), so the next join reloads
    the room from the database."""
    async with httpx.AsyncClient(base_url=node.url, timeout=10.0) as client:
        for _ in range(400):
            metrics = (await client.get("/metrics")).text
            if 'liveclass_realtime{kind="rooms"} 0.0' in metrics:
                return
            await asyncio.sleep(0.05)
    gauges = [line for line in metrics.splitlines() if "realtime" in line]
    raise AssertionError(f"rooms stayed loaded: {gauges}")
