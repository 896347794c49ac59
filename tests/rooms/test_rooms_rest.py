"""Rooms REST on SQLite and PostgreSQL: create, list, read, change (live), end (live),
invitations and bans, join tokens, and the problem documents for everything refused."""

from __future__ import annotations

from dataclasses import dataclass

import jwt
import pytest

from kits.nodes import Node
from kits.opener import RoomOpeners
from kits.rooms import (
    Person,
    admin,
    of,
    random_id,
    register,
    rest,
)

pytestmark = pytest.mark.postgres
SECRET = "t" * 48
SETTINGS = {
    "open",
    "lobby",
    "locked",
    "chat_enabled",
    "slow_mode_seconds",
    "whiteboard_locked",
    "notes_locked",
    "max_participants",
}


@dataclass
class People:
    host: Person
    other_instructor: Person
    student: Person
    invited: Person
    admin: Person


@pytest.fixture(scope="module")
def people(node: Node) -> People:
    return People(
        register(node, "instructor"),
        register(node, "instructor"),
        register(node),
        register(node),
        admin(node),
    )


def problem(response: object, status: int) -> dict[str, object]:
    assert getattr(response, "status_code", None) == status, getattr(response, "text", "")
    headers = getattr(response, "headers", {})
    assert headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert "Traceback" not in str(body)
    return body


async def test_create_room(node: Node, people: People) -> None:
    created = await rest(
        node,
        people.host,
        "POST",
        "/api/v1/rooms",
        json={"title": "  Algebra  ", "lobby": True, "max_participants": 30},
    )
    assert created.status_code == 201, created.text
    room = created.json()
    assert room["title"] == "Algebra"
    assert room["my_role"] == "host"
    assert room["status"] == "open"
    assert room["created_by"] == people.host.user_id
    assert room["parent_id"] is None
    assert room["ended_at"] is None
    assert set(room["settings"]) == SETTINGS
    assert room["settings"]["lobby"] is True
    assert room["settings"]["max_participants"] == 30
    assert room["settings"]["chat_enabled"] is True
    # Students may not create rooms; nobody anonymous may.
    problem(await rest(node, people.student, "POST", "/api/v1/rooms", json={"title": "x"}), 403)
    anonymous = await rest(node, None, "POST", "/api/v1/rooms", json={"title": "x"})
    problem(anonymous, 401)
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    for body in (
        {},
        {"title": ""},
        {"title": "x" * 201},
        {"title": "ok", "max_participants": 0},
        {"title": "ok", "slow_mode_seconds": -1},
        {"title": "ok", "colour": "blue"},
        {"title": "ok", "open": "sometimes"},
    ):
        refused = await rest(node, people.host, "POST", "/api/v1/rooms", json=body)
        details = problem(refused, 422)
        assert details["errors"], body


async def test_list_and_read_rooms(node: Node, people: People, rooms_on: RoomOpeners) -> None:
    rooms = rooms_on(node)
    mine = await rooms.room(people.host, members=[(people.invited, "presenter")])
    open_room = await rooms.room(people.host, open=True)
    ended = await rooms.room(people.host)
    assert (await rest(node, people.host, "POST", f"/api/v1/rooms/{ended}/end")).status_code == 204

    listed = await rest(node, people.host, "GET", "/api/v1/rooms", params={"limit": 200})
    ids = [r["id"] for r in listed.json()["items"]]
    assert {mine, open_room, ended} <= set(ids)
    assert listed.json()["total"] >= 3
    only_open = await rest(node, people.host, "GET", "/api/v1/rooms", params={"status": "open"})
    assert ended not in [r["id"] for r in only_open.json()["items"]]
    only_ended = await rest(node, people.host, "GET", "/api/v1/rooms", params={"status": "ended"})
    assert ended in [r["id"] for r in only_ended.json()["items"]]
    paged = await rest(node, people.host, "GET", "/api/v1/rooms", params={"limit": 1, "offset": 1})
    assert len(paged.json()["items"]) == 1
    assert (paged.json()["limit"], paged.json()["offset"]) == (1, 1)
    problem(await rest(node, people.host, "GET", "/api/v1/rooms", params={"limit": 0}), 422)

    # Invited: listed with the invitation's role.
    theirs = await rest(node, people.invited, "GET", "/api/v1/rooms")
    assert (mine, "presenter") in [(r["id"], r["my_role"]) for r in theirs.json()["items"]]
    assert open_room not in [r["id"] for r in theirs.json()["items"]]
    # Someone else's instructor sees none of them; an admin sees all (as co-host).
    other = await rest(node, people.other_instructor, "GET", "/api/v1/rooms")
    assert not {mine, open_room, ended} & {r["id"] for r in other.json()["items"]}
    everything = await rest(node, people.admin, "GET", "/api/v1/rooms", params={"limit": 200})
    roles = {r["id"]: r["my_role"] for r in everything.json()["items"]}
    assert roles[mine] == "co-host"

    # Reading one: members yes; strangers only when the room is open.
    got = await rest(node, people.invited, "GET", f"/api/v1/rooms/{mine}")
    assert got.json()["my_role"] == "presenter"
    problem(await rest(node, people.student, "GET", f"/api/v1/rooms/{mine}"), 404)
    seen = await rest(node, people.student, "GET", f"/api/v1/rooms/{open_room}")
    assert seen.status_code == 200
    assert seen.json()["my_role"] is None
    problem(await rest(node, people.host, "GET", f"/api/v1/rooms/{random_id()}"), 404)
    problem(await rest(node, people.host, "GET", "/api/v1/rooms/not-a-uuid"), 422)


async def test_patch_applies_live(node: Node, people: People, rooms_on: RoomOpeners) -> None:
    open_room = rooms_on(node)
    room, [watcher] = await open_room(
        people.host, members=[(people.invited, "participant")], enter=[people.invited]
    )
    changed = await rest(
        node,
        people.host,
        "PATCH",
        f"/api/v1/rooms/{room}",
        json={"title": "Renamed", "chat_enabled": False, "lobby": False},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "Renamed"
    assert changed.json()["settings"]["chat_enabled"] is False
    renamed = await watcher.next(of("room.renamed"))
    assert (renamed["title"], renamed["by"]) == ("Renamed", people.host.user_id)
    settings = await watcher.next(of("room.settings"))
    assert settings["changes"] == {"chat_enabled": False}  # lobby was already off
    # The live state follows: chat is now refused for participants.
    await watcher.error({"type": "chat.send", "text": "hello?"}, "forbidden")
    # Nothing changed: no events.
    same = await rest(node, people.host, "PATCH", f"/api/v1/rooms/{room}", json={"lobby": False})
    assert same.status_code == 200
    # Only hosts change rooms.
    problem(
        await rest(node, people.invited, "PATCH", f"/api/v1/rooms/{room}", json={"title": "x"}),
        403,
    )
    problem(
        await rest(node, people.student, "PATCH", f"/api/v1/rooms/{room}", json={"title": "x"}),
        404,
    )
    problem(
        await rest(node, people.host, "PATCH", f"/api/v1/rooms/{room}", json={"locked": "yes!"}),
        422,
    )
    late = await open_room.enter(people.invited, room)
    assert late.snapshot["room"]["title"] == "Renamed"
    assert late.received(of("room.settings")) == []


async def test_end_room(node: Node, people: People, rooms_on: RoomOpeners) -> None:
    room, [client] = await rooms_on(node)(
        people.host, members=[(people.invited, "co-host")], enter=[people.invited]
    )
    problem(await rest(node, people.student, "POST", f"/api/v1/rooms/{room}/end"), 404)
    ended = await rest(node, people.host, "POST", f"/api/v1/rooms/{room}/end")
    assert ended.status_code == 204
    event = await client.next(of("room.ended"))
    assert event["by"] == people.host.user_id
    assert await client.closed() == (4010, "room ended")
    # Ending twice is fine; changing or joining an ended room is not.
    assert (await rest(node, people.host, "POST", f"/api/v1/rooms/{room}/end")).status_code == 204
    problem(await rest(node, people.host, "POST", f"/api/v1/rooms/{room}/join"), 410)
    problem(
        await rest(node, people.host, "PATCH", f"/api/v1/rooms/{room}", json={"title": "x"}), 410
    )
    got = await rest(node, people.host, "GET", f"/api/v1/rooms/{room}")
    assert got.json()["status"] == "ended"


async def test_invitations(node: Node, people: People, rooms_on: RoomOpeners) -> None:
    room = await rooms_on(node).room(people.host)
    path = f"/api/v1/rooms/{room}/members"
    by_email = await rest(
        node, people.host, "POST", path, json={"email": people.invited.email, "role": "observer"}
    )
    assert by_email.status_code == 201, by_email.text
    assert by_email.json()["user_id"] == people.invited.user_id
    assert (by_email.json()["role"], by_email.json()["banned"]) == ("observer", False)
    # Inviting again changes the role.
    again = await rest(
        node, people.host, "POST", path, json={"user_id": people.invited.user_id, "role": "co-host"}
    )
    assert again.json()["role"] == "co-host"
    listed = await rest(node, people.host, "GET", path)
    assert [(m["user_id"], m["role"]) for m in listed.json()] == [
        (people.invited.user_id, "co-host")
    ]
    # Bad invitations.
    problem(await rest(node, people.host, "POST", path, json={"user_id": random_id()}), 404)
    problem(await rest(node, people.host, "POST", path, json={"email": "nobody@example.org"}), 404)
    problem(await rest(node, people.host, "POST", path, json={}), 422)
    problem(
        await rest(
            node,
            people.host,
            "POST",
            path,
            json={"user_id": people.student.user_id, "email": people.student.email},
        ),
        422,
    )
    problem(
        await rest(
            node, people.host, "POST", path, json={"user_id": people.student.user_id, "role": "x"}
        ),
        422,
    )
    # Withdrawing: the room disappears for them.
    deleted = await rest(node, people.host, "DELETE", f"{path}/{people.invited.user_id}")
    assert deleted.status_code == 204
    problem(await rest(node, people.invited, "GET", f"/api/v1/rooms/{room}"), 404)
    problem(await rest(node, people.invited, "POST", f"/api/v1/rooms/{room}/join"), 404)
    # Withdrawing what is not there is fine too.
    assert (await rest(node, people.host, "DELETE", f"{path}/{random_id()}")).status_code == 204


async def test_join_token(node: Node, people: People, rooms_on: RoomOpeners) -> None:
    open_room = rooms_on(node)
    room = await open_room.room(people.host, members=[(people.invited, "observer")])
    joined = await rest(node, people.invited, "POST", f"/api/v1/rooms/{room}/join")
    assert joined.status_code == 200, joined.text
    body = joined.json()
    assert body["expires_in"] == 600
    assert body["room_id"] == room
    assert body["role"] == "observer"
    assert body["grants"] == ["react"]
    assert body["lobby"] is False
    assert body["ws_url"].startswith("ws://")
    assert body["ws_url"].endswith(f"/ws/rooms/{room}")
    documents = {d["name"]: d for d in body["documents"]}
    assert set(documents) == {f"rooms/{room}/whiteboard", f"rooms/{room}/notes"}
    for name, doc in documents.items():
        assert doc["access"] == "read"
        assert doc["url"].endswith(f"/yjs/{name}")
    claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"], audience="liveclass:join")
    assert claims["room"] == room
    assert claims["sub"] == people.invited.user_id
    assert claims["role"] == "observer"
    assert claims["grants"] == ["react"]
    assert claims["lobby"] is False
    assert set(claims["docs"].values()) == {"read"}
    assert claims["exp"] - claims["iat"] == 600
    # The host writes; an admin joins as co-host; strangers are not let in.
    host = (await rest(node, people.host, "POST", f"/api/v1/rooms/{room}/join")).json()
    assert host["role"] == "host"
    assert "moderate" in host["grants"]
    assert {d["access"] for d in host["documents"]} == {"write"}
    admin = (await rest(node, people.admin, "POST", f"/api/v1/rooms/{room}/join")).json()
    assert admin["role"] == "co-host"
    problem(await rest(node, people.student, "POST", f"/api/v1/rooms/{room}/join"), 404)
    problem(await rest(node, None, "POST", f"/api/v1/rooms/{room}/join"), 401)
    # Open rooms let anyone signed in join, as a participant (through the lobby if on).
    lobby_room = await open_room.room(people.host, open=True, lobby=True)
    guest = (await rest(node, people.student, "POST", f"/api/v1/rooms/{lobby_room}/join")).json()
    assert (guest["role"], guest["lobby"]) == ("participant", True)
    # The token works on the socket.
    client = await open_room.open(room, body["token"])
    assert client.me["role"] == "observer"
    assert client.me["grants"] == ["react"]
