"""The lobby: people who are not invited wait until a host admits (welcome) or denies (4031)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kits.nodes import Node
from kits.opener import RoomOpener
from kits.rooms import (
    Person,
    RoomClient,
    of,
    random_id,
    register,
    rest,
    settle,
)


@dataclass
class People:
    host: Person
    invited: Person
    guests: list[Person]


@pytest.fixture(scope="module")
def people(room_node: Node) -> People:
    return People(
        register(room_node, "instructor"),
        register(room_node),
        [register(room_node) for _ in range(4)],
    )


async def lobby_room(open_room: RoomOpener, people: People) -> tuple[str, RoomClient, RoomClient]:
    room, [host, invited] = await open_room(
        people.host,
        members=[(people.invited, "participant")],
        enter=(people.host, people.invited),  # invited: no lobby
        open=True,
        lobby=True,
    )
    return room, host, invited


async def wait_in_lobby(open_room: RoomOpener, person: Person, room: str) -> RoomClient:
    joined = await rest(open_room.node, person, "POST", f"/api/v1/rooms/{room}/join")
    assert joined.status_code == 200, joined.text
    assert joined.json()["lobby"] is True
    assert joined.json()["role"] == "participant"
    client = await open_room.open(room, joined.json()["token"], welcome=False)
    assert await client.next(of("lobby.waiting")) == {"type": "lobby.waiting", "protocol": 1}
    return client


async def test_admit_lets_a_waiting_person_in(open_room: RoomOpener, people: People) -> None:
    room, host, invited = await lobby_room(open_room, people)
    guest_person = people.guests[0]
    guest = await wait_in_lobby(open_room, guest_person, room)
    # Hosts hear of it; participants do not.
    waiting = await host.next(of("lobby.waiting"))
    assert waiting["user"]["user_id"] == guest_person.user_id
    assert waiting["user"]["name"] == guest_person.name
    assert waiting["audience"] == {"hosts": True}
    # Only ping is answered while waiting.
    await guest.send({"type": "chat.send", "text": "let me in"})
    await guest.send({"type": "ping", "ref": "waiting"})
    assert await guest.next(of("pong")) == {"type": "pong", "ref": "waiting"}
    await settle(host, invited)
    assert invited.received(of("lobby.waiting")) == []
    assert host.received(lambda m: m.get("type") == "chat.message") == []
    # A host who arrives later sees the queue in the snapshot; participants never do.
    host2 = await open_room.enter(people.host, room)
    assert [w["user_id"] for w in host2.snapshot["lobby"]] == [guest_person.user_id]
    invited2 = await open_room.enter(people.invited, room)
    assert invited2.snapshot["lobby"] == []
    # Admission: the guest gets the welcome and a snapshot.
    await host.ack({"type": "lobby.admit", "user_id": guest_person.user_id})
    admitted = await host.next(of("lobby.admitted"))
    assert admitted["user_id"] == guest_person.user_id
    welcome = await guest.next(of("welcome"))
    assert welcome["recovered"] is False
    assert welcome["you"]["role"] == "participant"
    assert guest.received(of("error")) == []
    for client in (host, invited):
        await client.next(of("presence.connected", conn_id=guest.conn_id))
    await settle(host, invited)
    assert invited.received(of("lobby.admitted")) == []
    # Once admitted, a reconnect does not wait again.
    await guest.close()
    again = await open_room.enter(guest_person, room)
    assert again.welcome is not None
    await host.error({"type": "lobby.admit", "user_id": random_id()}, "not-found")


async def test_deny_closes_4031(open_room: RoomOpener, people: People) -> None:
    room, host, invited = await lobby_room(open_room, people)
    guest_person = people.guests[1]
    guest = await wait_in_lobby(open_room, guest_person, room)
    await host.next(of("lobby.waiting"))
    await invited.error({"type": "lobby.deny", "user_id": guest_person.user_id}, "forbidden")
    await host.ack({"type": "lobby.deny", "user_id": guest_person.user_id})
    denied = await host.next(of("lobby.denied"))
    assert denied["user_id"] == guest_person.user_id
    assert await guest.closed() == (4031, "denied entry")
    assert guest.received(of("welcome")) == []
    await host.error({"type": "lobby.deny", "user_id": guest_person.user_id}, "not-found")
    await settle(host, invited)
    assert invited.received(of("lobby.denied")) == []
    # The room carries on.
    await invited.ack({"type": "chat.send", "text": "still here"})
    await host.next(lambda m: m.get("type") == "chat.message")


async def test_leaving_the_lobby_tells_the_hosts(open_room: RoomOpener, people: People) -> None:
    room, host, _ = await lobby_room(open_room, people)
    guest_person = people.guests[2]
    guest = await wait_in_lobby(open_room, guest_person, room)
    await host.next(of("lobby.waiting"))
    await guest.close()
    left = await host.next(of("lobby.left"))
    assert left["user_id"] == guest_person.user_id
    await host.error({"type": "lobby.admit", "user_id": guest_person.user_id}, "not-found")
    late = await open_room.enter(people.host, room)
    assert late.snapshot["lobby"] == []


async def test_turning_the_lobby_off_admits_everyone_waiting(
    open_room: RoomOpener, people: People
) -> None:
    room, host, _ = await lobby_room(open_room, people)
    first = await wait_in_lobby(open_room, people.guests[0], room)
    second = await wait_in_lobby(open_room, people.guests[3], room)
    await host.next(of("lobby.waiting"))
    await host.next(of("lobby.waiting"))
    await host.ack({"type": "room.settings", "lobby": False})
    for guest in (first, second):
        await guest.next(of("welcome"))
        assert guest.snapshot["room"]["settings"]["lobby"] is False
    # Now an open room without a lobby: newcomers come straight in.
    token = await open_room.token(people.guests[1], room)
    direct = await open_room.open(room, token)
    assert direct.welcome is not None


async def test_bad_frames_in_the_lobby_close_like_in_the_room(
    open_room: RoomOpener, people: People
) -> None:
    room, host, _ = await lobby_room(open_room, people)
    binary = await wait_in_lobby(open_room, people.guests[0], room)
    await host.next(of("lobby.waiting"))
    await binary.send_raw(b"\x00\x01")
    assert await binary.closed() == (1003, "send JSON text frames")
    assert (await host.next(of("lobby.left")))["user_id"] == people.guests[0].user_id
    huge = await wait_in_lobby(open_room, people.guests[1], room)
    await huge.send_raw('{"type": "ping", "pad": "' + "x" * 20_000 + '"}')
    assert (await huge.closed())[0] == 1009
    await host.next(of("lobby.left"))
