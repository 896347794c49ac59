"""Chat on the room channel: public, private and to-hosts messages, edits, deletion,
reactions, typing, rate limits, slow mode and disabled chat, with real clients."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kits.nodes import Node
from kits.opener import RoomOpener
from kits.rooms import (
    Person,
    RoomClient,
    chat_with,
    close_all,
    of,
    random_id,
    register,
    settle,
)


@dataclass
class People:
    host: Person
    cohost: Person
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
        register(room_node),
    )


def members(people: People) -> list[tuple[Person, str]]:
    return [
        (people.cohost, "co-host"),
        *((p, "participant") for p in (people.a, people.b, people.c)),
    ]


async def everyone(open_room: RoomOpener, people: People) -> tuple[str, list[RoomClient]]:
    """The room with everyone connected: host, co-host, a, b, c."""
    return await open_room(
        people.host,
        members=members(people),
        enter=(people.host, people.cohost, people.a, people.b, people.c),
    )


async def test_public_message_reaches_everyone_with_its_shape(
    open_room: RoomOpener, people: People
) -> None:
    room, clients = await everyone(open_room, people)
    host, _, a, _, _ = clients
    reply = await a.ack({"type": "chat.send", "text": "  hello, class  "})
    for client in clients:
        event = await client.next(of("chat.message"))
        assert isinstance(event["seq"], int)
        assert event["by"] == a.user_id
        assert event["at"]
        message = event["message"]
        assert message == {
            "id": reply["message_id"],
            "author_id": a.user_id,
            "author_name": people.a.name,
            "text": "hello, class",
            "to_user_id": None,
            "to_hosts": False,
            "at": event["at"],
            "edited_at": None,
            "deleted": False,
            "reactions": {},
        }
        assert "audience" not in event
    # A later arrival finds it in the snapshot.
    await clients[-1].close()
    late = await open_room.enter(people.c, room)
    assert [m["id"] for m in late.snapshot["chat"]] == [reply["message_id"]]
    await close_all([*clients, late])
    assert host.received(of("error")) == []


async def test_private_message_is_seen_by_sender_and_addressee_only(
    open_room: RoomOpener, people: People
) -> None:
    room, clients = await everyone(open_room, people)
    host, cohost, a, b, c = clients
    reply = await a.ack({"type": "chat.send", "text": "psst, b", "to": b.user_id})
    for client in (a, b):
        event = await client.next(chat_with("psst, b"))
        assert event["message"]["id"] == reply["message_id"]
        assert event["message"]["to_user_id"] == b.user_id
        assert event["audience"] == {"users": [a.user_id, b.user_id]}
    await settle(host, cohost, a, b, c)
    for outsider in (host, cohost, c):
        assert outsider.received(chat_with("psst, b")) == []

    # Edits, reactions and deletion of a private message stay private too.
    message_id = reply["message_id"]
    await a.ack({"type": "chat.edit", "message_id": message_id, "text": "psst, b (edited)"})
    await b.ack({"type": "chat.react", "message_id": message_id, "emoji": "👍"})
    for client in (a, b):
        await client.next(of("chat.edited", message_id=message_id))
        await client.next(of("chat.reaction", message_id=message_id))
    # Outsiders cannot even see that it exists.
    await c.error({"type": "chat.react", "message_id": message_id, "emoji": "👀"}, "not-found")
    await host.error({"type": "chat.edit", "message_id": message_id, "text": "x"}, "not-found")
    await a.ack({"type": "chat.delete", "message_id": message_id})
    await b.next(of("chat.deleted", message_id=message_id))
    await settle(host, cohost, a, b, c)
    for outsider in (host, cohost, c):
        kinds = {m["type"] for m in outsider.log}
        assert not kinds & {"chat.edited", "chat.reaction", "chat.deleted"}, kinds

    # Snapshots follow the same rule.
    await close_all(clients)
    b2 = await open_room.enter(people.b, room)
    c2 = await open_room.enter(people.c, room)
    assert [m["id"] for m in b2.snapshot["chat"]] == [message_id]
    assert b2.snapshot["chat"][0]["deleted"] is True
    assert c2.snapshot["chat"] == []


async def test_message_to_hosts_reaches_hosts_and_sender_only(
    open_room: RoomOpener, people: People
) -> None:
    _, clients = await everyone(open_room, people)
    host, cohost, a, b, c = clients
    reply = await a.ack({"type": "chat.send", "text": "question for hosts", "to": "hosts"})
    for client in (a, host, cohost):
        event = await client.next(chat_with("question for hosts"))
        assert event["message"]["to_hosts"] is True
        assert event["message"]["to_user_id"] is None
        assert event["message"]["id"] == reply["message_id"]
        assert event["audience"] == {"users": [a.user_id], "hosts": True}
    await settle(host, *clients[1:])
    for outsider in (b, c):
        assert outsider.received(chat_with("question for hosts")) == []
    # A moderator may delete it; the participants who could not see it hear nothing.
    await cohost.ack({"type": "chat.delete", "message_id": reply["message_id"]})
    for client in (a, host, cohost):
        await client.next(of("chat.deleted", message_id=reply["message_id"], by=cohost.user_id))
    await settle(host, *clients[1:])
    assert b.received(of("chat.deleted")) == []


async def test_private_message_to_someone_absent_is_refused(
    open_room: RoomOpener, people: People
) -> None:
    _, [a] = await open_room(people.host, members=members(people), enter=[people.a])
    await a.error({"type": "chat.send", "text": "anyone?", "to": random_id()}, "not-found")
    # b was invited but is not connected: not in the room either.
    await a.error({"type": "chat.send", "text": "b?", "to": people.b.user_id}, "not-found")


async def test_edit_own_message_only(open_room: RoomOpener, people: People) -> None:
    room, clients = await everyone(open_room, people)
    host, cohost, a, b, _ = clients
    message_id = (await a.ack({"type": "chat.send", "text": "typo hree"}))["message_id"]
    await a.ack({"type": "chat.edit", "message_id": message_id, "text": "typo here"})
    for client in clients:
        event = await client.next(of("chat.edited", message_id=message_id))
        assert event["text"] == "typo here"
        assert event["by"] == a.user_id
    # Nobody edits someone else's words, not even a host.
    for other in (b, host, cohost):
        await other.error(
            {"type": "chat.edit", "message_id": message_id, "text": "hijack"}, "forbidden"
        )
    await a.error({"type": "chat.edit", "message_id": random_id(), "text": "x"}, "not-found")
    await close_all(clients)
    again = await open_room.enter(people.b, room)
    [stored] = again.snapshot["chat"]
    assert stored["text"] == "typo here"
    assert stored["edited_at"] is not None


async def test_delete_own_or_as_moderator(open_room: RoomOpener, people: People) -> None:
    room, clients = await everyone(open_room, people)
    host, _, a, b, _ = clients
    first = (await a.ack({"type": "chat.send", "text": "delete me"}))["message_id"]
    second = (await a.ack({"type": "chat.send", "text": "host deletes me"}))["message_id"]
    await b.error({"type": "chat.delete", "message_id": first}, "forbidden")
    await a.ack({"type": "chat.delete", "message_id": first})
    await host.ack({"type": "chat.delete", "message_id": second})
    for client in clients:
        assert (await client.next(of("chat.deleted", message_id=first)))["by"] == a.user_id
        assert (await client.next(of("chat.deleted", message_id=second)))["by"] == host.user_id
    await a.error({"type": "chat.delete", "message_id": first}, "not-found")
    late = await open_room.enter(people.c, room)
    assert [(m["deleted"], m["text"]) for m in late.snapshot["chat"]] == [(True, ""), (True, "")]


async def test_reactions_on_messages(open_room: RoomOpener, people: People) -> None:
    room, clients = await everyone(open_room, people)
    host, _, a, b, c = clients
    message_id = (await host.ack({"type": "chat.send", "text": "react to me"}))["message_id"]
    await a.ack({"type": "chat.react", "message_id": message_id, "emoji": "🎉"})
    await b.ack({"type": "chat.react", "message_id": message_id, "emoji": "🎉", "add": True})
    for client in clients:
        for who in (a, b):
            event = await client.next(of("chat.reaction", by=who.user_id))
            assert event["message_id"] == message_id
            assert event["emoji"] == "🎉"
            assert event["add"] is True
    # Adding twice changes nothing and publishes nothing.
    await a.ack({"type": "chat.react", "message_id": message_id, "emoji": "🎉"})
    await b.ack({"type": "chat.react", "message_id": message_id, "emoji": "🎉", "add": False})
    event = await c.next(of("chat.reaction", by=b.user_id))
    assert event["add"] is False
    await settle(host, *clients[1:])
    assert len(c.received(of("chat.reaction", by=a.user_id))) == 1
    await c.error({"type": "chat.react", "message_id": random_id(), "emoji": "x"}, "not-found")
    late_person = people.c
    await c.close()
    late = await open_room.enter(late_person, room)
    assert late.snapshot["chat"][0]["reactions"] == {"🎉": [a.user_id]}


async def test_typing_is_volatile_and_may_be_addressed(
    open_room: RoomOpener, people: People
) -> None:
    _, clients = await everyone(open_room, people)
    host, cohost, a, b, c = clients
    await a.ack({"type": "chat.typing"})
    for client in (host, b, c):
        event = await client.next(of("chat.typing", user_id=a.user_id))
        assert event["name"] == people.a.name
        assert "seq" not in event
    await a.ack({"type": "chat.typing", "to": b.user_id})
    await a.ack({"type": "chat.typing", "to": "hosts"})
    await b.next(lambda m: m.get("type") == "chat.typing" and "audience" in m)
    await host.next(lambda m: m.get("type") == "chat.typing" and "audience" in m)
    await cohost.next(lambda m: m.get("type") == "chat.typing" and "audience" in m)
    # One node, one broker: volatile frames are queued before the barrier's event.
    await settle(host, cohost, a, b, c)
    assert len(c.received(of("chat.typing"))) == 1
    assert len(b.received(of("chat.typing"))) == 2
    # Typing is never replayed: a newcomer's snapshot and recovery do not carry it.
    assert all("seq" not in m for m in b.received(of("chat.typing")))


async def test_chat_rate_limit_refuses_only_the_flooder(
    open_room: RoomOpener, people: People
) -> None:
    _, clients = await everyone(open_room, people)
    host, _, a, b, _ = clients
    refs = [await a.send({"type": "chat.send", "text": f"flood {i}"}) for i in range(40)]
    replies = [
        await a.next(lambda m, r=ref: m.get("ref") == r and m["type"] in ("ack", "error"))
        for ref in refs
    ]
    limited = [r for r in replies if r["type"] == "error"]
    assert limited, "forty messages at once must hit the chat limit (burst 10, 5/s)"
    assert {r["code"] for r in limited} == {"rate-limited"}
    accepted = sum(r["type"] == "ack" for r in replies)
    assert accepted >= 10
    # Exactly the accepted messages reached the others, in order; nobody else is limited.
    await b.ack({"type": "chat.send", "text": "b is fine"})
    await host.next(chat_with("b is fine"))
    texts = [m["message"]["text"] for m in host.received(of("chat.message"))]
    flood = [t for t in texts if t.startswith("flood")]
    assert len(flood) == accepted
    assert flood == sorted(flood, key=lambda t: int(t.split()[1]))
    await a.send({"type": "ping", "ref": "still-here"})
    await a.next(of("pong", ref="still-here"))


async def test_slow_mode(open_room: RoomOpener, people: People) -> None:
    _, clients = await everyone(open_room, people)
    host, _, a, b, _ = clients
    await host.ack({"type": "room.settings", "slow_mode_seconds": 3600})
    for client in clients:
        event = await client.next(of("room.settings"))
        assert event["changes"] == {"slow_mode_seconds": 3600}
    await a.ack({"type": "chat.send", "text": "first"})
    reply = await a.error({"type": "chat.send", "text": "second"}, "slow-mode")
    assert "wait" in reply["message"]
    # Others have their own allowance; hosts and private messages are not slowed.
    await b.ack({"type": "chat.send", "text": "b first"})
    await host.ack({"type": "chat.send", "text": "host 1"})
    await host.ack({"type": "chat.send", "text": "host 2"})
    await a.ack({"type": "chat.send", "text": "private", "to": b.user_id})
    await host.ack({"type": "room.settings", "slow_mode_seconds": 0})
    await a.next(of("room.settings"))
    await a.ack({"type": "chat.send", "text": "second, later"})
    await b.next(chat_with("second, later"))


async def test_disabled_chat_removes_the_chat_grant_but_not_for_hosts(
    open_room: RoomOpener, people: People
) -> None:
    room, clients = await everyone(open_room, people)
    host, cohost, a, b, _ = clients
    before = (await host.ack({"type": "chat.send", "text": "before"}))["message_id"]
    await host.ack({"type": "room.settings", "chat_enabled": False})
    await a.next(of("room.settings", changes={"chat_enabled": False}))
    await a.error({"type": "chat.send", "text": "can I?"}, "forbidden")
    await a.error({"type": "chat.typing"}, "forbidden")
    await a.error({"type": "chat.edit", "message_id": before, "text": "x"}, "forbidden")
    # Reactions need `react`, not `chat`.
    await a.ack({"type": "chat.react", "message_id": before, "emoji": "👋"})
    await host.ack({"type": "chat.send", "text": "hosts still talk"})
    await cohost.ack({"type": "chat.send", "text": "co-hosts too"})
    await b.next(chat_with("co-hosts too"))
    # A newcomer's grants say so.
    late = await open_room.enter(people.c, room)
    assert "chat" not in late.me["grants"]
    assert late.snapshot["room"]["settings"]["chat_enabled"] is False
    await host.ack({"type": "room.settings", "chat_enabled": True})
    await a.next(of("room.settings", changes={"chat_enabled": True}))
    await a.ack({"type": "chat.send", "text": "back"})
    await late.next(chat_with("back"))


async def test_ping_is_answered_with_pong(open_room: RoomOpener, people: People) -> None:
    _, [a] = await open_room(people.host, members=members(people), enter=[people.a])
    await a.send({"type": "ping", "ref": "are-you-there"})
    assert await a.next(of("pong")) == {"type": "pong", "ref": "are-you-there"}
    await a.send_raw('{"type": "ping"}')
    assert await a.next(of("pong")) == {"type": "pong", "ref": None}
