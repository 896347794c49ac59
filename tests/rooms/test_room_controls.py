"""Every classroom control on the room channel: hands, reactions, status, muting, asking to
unmute, removal and bans, roles, spotlight, settings, locking, room size and ending."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

from kits.nodes import Node
from kits.opener import RoomOpener
from kits.rooms import (
    Person,
    RoomClient,
    invite,
    of,
    random_id,
    register,
    rest,
    settle,
)


@dataclass
class People:
    host: Person
    a: Person
    b: Person
    c: Person
    stranger: Person


@pytest.fixture(scope="module")
def people(room_node: Node) -> People:
    return People(
        register(room_node, "instructor"),
        register(room_node),
        register(room_node),
        register(room_node),
        register(room_node),
    )


async def classroom(
    open_room: RoomOpener, people: People, **settings: object
) -> tuple[str, list[RoomClient]]:
    return await open_room(
        people.host,
        members=[(p, "participant") for p in (people.a, people.b, people.c)],
        enter=(people.host, people.a, people.b),
        **settings,
    )


async def test_hands_queue_in_order_raised(
    room_node: Node, people: People, open_room: RoomOpener
) -> None:
    room, clients = await classroom(open_room, people)
    host, a, b = clients
    await a.ack({"type": "hand.raise"})
    await b.ack({"type": "hand.raise"})
    for client in clients:
        first = await client.next(of("hand.raised"))
        second = await client.next(of("hand.raised"))
        assert [first["user_id"], second["user_id"]] == [a.user_id, b.user_id]
        assert first["seq"] < second["seq"]
    # Raising again keeps the place and publishes nothing.
    assert (await a.ack({"type": "hand.raise"}))["position"] == 1
    late = await open_room.enter(people.c, room)
    assert [h["user_id"] for h in late.snapshot["hands"]] == [a.user_id, b.user_id]
    assert all(h["at"] for h in late.snapshot["hands"])
    # Lower one's own; lowering someone else's takes `moderate`.
    await a.error({"type": "hand.lower", "user_id": b.user_id}, "forbidden")
    await a.ack({"type": "hand.lower"})
    await host.ack({"type": "hand.lower", "user_id": b.user_id})
    for client in (*clients, late):
        assert (await client.next(of("hand.lowered")))["user_id"] == a.user_id
        lowered = await client.next(of("hand.lowered"))
        assert (lowered["user_id"], lowered["by"]) == (b.user_id, host.user_id)
    # Lowering a hand that is down is a no-op.
    await a.ack({"type": "hand.lower"})
    await settle(host, a, b, late)
    assert len(late.received(of("hand.lowered"))) == 2


async def test_reaction_is_volatile(room_node: Node, people: People, open_room: RoomOpener) -> None:
    _, clients = await classroom(open_room, people)
    a = clients[1]
    await a.ack({"type": "reaction.send", "emoji": "👏"})
    for client in clients:
        event = await client.next(of("reaction"))
        assert event == {"type": "reaction", "user_id": a.user_id, "emoji": "👏"}


async def test_status_reports_only_what_changed(
    room_node: Node, people: People, open_room: RoomOpener
) -> None:
    room, clients = await classroom(open_room, people)
    host, a, b = clients
    await a.ack({"type": "status.set", "camera": True, "mic": True})
    for client in clients:
        event = await client.next(of("participant.status", user_id=a.user_id))
        assert {k: event.get(k) for k in ("camera", "mic", "screen", "away")} == {
            "camera": True,
            "mic": True,
            "screen": None,
            "away": None,
        }
    # A participant may not share a screen: that part is dropped (here: nothing left).
    await a.ack({"type": "status.set", "screen": True})
    await settle(b, host, a)
    assert not any("screen" in m for m in host.received(of("participant.status")))
    late = await open_room.enter(people.c, room)
    [mine] = [p for p in late.snapshot["participants"] if p["user_id"] == a.user_id]
    assert (mine["camera"], mine["mic"], mine["screen"], mine["away"]) == (True, True, False, False)


async def test_mute_one_and_mute_all(
    room_node: Node, people: People, open_room: RoomOpener
) -> None:
    room, clients = await classroom(open_room, people)
    host, a, b = clients
    await a.ack({"type": "status.set", "mic": True})
    await b.ack({"type": "status.set", "mic": True})
    await host.ack({"type": "status.set", "mic": True})
    await host.ack({"type": "participant.mute", "user_id": a.user_id})
    for client in clients:
        event = await client.next(of("participant.muted"))
        assert (event["user_id"], event["by"]) == (a.user_id, host.user_id)
    await host.ack({"type": "room.mute_all"})
    for client in clients:
        event = await client.next(of("room.muted_all"))
        assert event["by"] == host.user_id
    await host.error({"type": "participant.mute", "user_id": random_id()}, "not-found")
    late = await open_room.enter(people.c, room)
    mics = {p["user_id"]: p["mic"] for p in late.snapshot["participants"]}
    # Everyone but the hosts is muted.
    assert mics[a.user_id] is False
    assert mics[b.user_id] is False
    assert mics[host.user_id] is True


async def test_ask_to_unmute_reaches_only_that_user_and_the_asker(
    room_node: Node, people: People, open_room: RoomOpener
) -> None:
    _, clients = await classroom(open_room, people)
    host, a, b = clients
    await host.ack({"type": "participant.ask_unmute", "user_id": a.user_id})
    for client in (host, a):
        event = await client.next(of("participant.unmute_requested"))
        assert (event["user_id"], event["by"]) == (a.user_id, host.user_id)
    await settle(host, a, b)
    assert b.received(of("participant.unmute_requested")) == []
    await host.error({"type": "participant.ask_unmute", "user_id": random_id()}, "not-found")


async def test_spotlight(room_node: Node, people: People, open_room: RoomOpener) -> None:
    room, clients = await classroom(open_room, people)
    host, a, _ = clients
    await host.ack({"type": "room.spotlight", "user_id": a.user_id})
    for client in clients:
        assert (await client.next(of("room.spotlight")))["user_id"] == a.user_id
    late = await open_room.enter(people.c, room)
    assert late.snapshot["spotlight"] == a.user_id
    await host.ack({"type": "room.spotlight", "user_id": None})
    for client in (*clients, late):
        assert (await client.next(of("room.spotlight")))["user_id"] is None
    await host.error({"type": "room.spotlight", "user_id": random_id()}, "not-found")


async def test_roles_change_live_and_grants_follow(
    room_node: Node, people: People, open_room: RoomOpener
) -> None:
    _, clients = await classroom(open_room, people)
    host, a, b = clients
    # Promote a to presenter: screen sharing becomes possible at once.
    await host.ack({"type": "participant.set_role", "user_id": a.user_id, "role": "presenter"})
    for client in clients:
        event = await client.next(of("participant.role"))
        assert (event["user_id"], event["role"], event["by"]) == (
            a.user_id,
            "presenter",
            host.user_id,
        )
    await a.ack({"type": "status.set", "screen": True})
    assert (await b.next(of("participant.status", user_id=a.user_id)))["screen"] is True
    # Demote to observer: chat and hands go at once.
    await host.ack({"type": "participant.set_role", "user_id": a.user_id, "role": "observer"})
    await a.next(of("participant.role", role="observer"))
    await a.error({"type": "chat.send", "text": "hi"}, "forbidden")
    await a.error({"type": "hand.raise"}, "forbidden")
    await a.ack({"type": "reaction.send", "emoji": "👍"})
    # The only one running the room cannot step down.
    await host.error(
        {"type": "participant.set_role", "user_id": host.user_id, "role": "participant"},
        "invalid",
    )
    # Make a co-host: a may now moderate b, but not the host.
    await host.ack({"type": "participant.set_role", "user_id": a.user_id, "role": "co-host"})
    await a.next(of("participant.role", role="co-host"))
    await a.ack({"type": "participant.mute", "user_id": b.user_id})
    await b.next(of("participant.muted", user_id=b.user_id))
    await a.error({"type": "participant.mute", "user_id": host.user_id}, "forbidden")
    await a.error({"type": "participant.remove", "user_id": host.user_id}, "forbidden")
    await a.error(
        {"type": "participant.set_role", "user_id": host.user_id, "role": "observer"}, "forbidden"
    )
    # Co-hosts assign presenter, participant and observer only.
    await a.error(
        {"type": "participant.set_role", "user_id": b.user_id, "role": "co-host"}, "forbidden"
    )
    await a.error(
        {"type": "participant.set_role", "user_id": b.user_id, "role": "host"}, "forbidden"
    )
    await a.ack({"type": "participant.set_role", "user_id": b.user_id, "role": "presenter"})
    await host.next(of("participant.role", user_id=b.user_id, role="presenter"))
    # Co-hosts see messages to hosts now.
    await b.ack({"type": "chat.send", "text": "to the hosts", "to": "hosts"})
    await a.next(lambda m: m.get("type") == "chat.message" and m["message"]["to_hosts"])
    # The host may demote a co-host.
    await host.ack({"type": "participant.set_role", "user_id": a.user_id, "role": "participant"})
    await a.next(of("participant.role", user_id=a.user_id, role="participant"))
    await a.error({"type": "participant.mute", "user_id": b.user_id}, "forbidden")
    await host.error(
        {"type": "participant.set_role", "user_id": random_id(), "role": "observer"}, "not-found"
    )


async def test_remove_closes_4030_and_allows_return(
    room_node: Node, people: People, open_room: RoomOpener
) -> None:
    room, clients = await classroom(open_room, people)
    host, a, b = clients
    await host.error({"type": "participant.remove", "user_id": host.user_id}, "invalid")
    await host.ack({"type": "participant.remove", "user_id": a.user_id})
    for client in (host, b):
        event = await client.next(of("participant.removed"))
        assert (event["user_id"], event["ban"], event["by"]) == (a.user_id, False, host.user_id)
    assert await a.closed() == (4030, "removed by a host")
    assert any(m["type"] == "participant.removed" for m in a.log)
    assert not any(p["user_id"] == a.user_id for p in (await fresh(room_node, people.c, room)))
    # Not banned: a may come back.
    back = await open_room.enter(people.a, room)
    assert back.me["role"] == "participant"


async def fresh(node: Node, person: Person, room: str) -> list[dict[str, object]]:
    client = await RoomClient.enter(node, person, room)
    participants: list[dict[str, object]] = client.snapshot["participants"]
    await client.close()
    return participants


async def test_ban_closes_and_keeps_out(
    room_node: Node, people: People, open_room: RoomOpener
) -> None:
    room, clients = await classroom(open_room, people)
    host, a, b = clients
    spare_token = await open_room.token(people.a, room)
    second_tab = await open_room.open(room, spare_token)
    await host.ack({"type": "participant.remove", "user_id": a.user_id, "ban": True})
    assert (await b.next(of("participant.removed")))["ban"] is True
    # Every connection of the banned user closes.
    assert await a.closed() == (4030, "banned from this room")
    assert await second_tab.closed() == (4030, "banned from this room")
    # REST refuses a join token; an old token is refused on the socket with 4003.
    refused = await rest(room_node, people.a, "POST", f"/api/v1/rooms/{room}/join")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    again = await open_room.open(room, spare_token, welcome=False)
    assert await again.closed() == (4003, "banned from this room")
    assert again.received(of("welcome")) == []
    # The ban is listed; a re-invitation conflicts; lifting the ban lets a in again.
    members = await rest(room_node, people.host, "GET", f"/api/v1/rooms/{room}/members")
    assert {m["user_id"]: m["banned"] for m in members.json()}[a.user_id] is True
    conflict = await rest(
        room_node,
        people.host,
        "POST",
        f"/api/v1/rooms/{room}/members",
        json={"user_id": a.user_id, "role": "participant"},
    )
    assert conflict.status_code == 409
    lifted = await rest(
        room_node, people.host, "DELETE", f"/api/v1/rooms/{room}/members/{a.user_id}"
    )
    assert lifted.status_code == 204
    unbanned = await host.next(of("participant.unbanned"))
    assert (unbanned["user_id"], unbanned["by"]) == (a.user_id, host.user_id)
    await settle(host, b)
    assert b.received(of("participant.unbanned")) == []  # hosts only
    await invite(room_node, people.host, room, people.a, "participant")
    back = await open_room.enter(people.a, room)
    assert back.snapshot["room"]["status"] == "open"


async def test_settings_change_live(room_node: Node, people: People, open_room: RoomOpener) -> None:
    room, clients = await classroom(open_room, people)
    host, a, b = clients
    await host.ack(
        {
            "type": "room.settings",
            "whiteboard_locked": True,
            "notes_locked": True,
            "lobby": False,  # unchanged: not reported
        }
    )
    for client in clients:
        event = await client.next(of("room.settings"))
        assert event["changes"] == {"whiteboard_locked": True, "notes_locked": True}
    # Nothing changes: acknowledged, nothing published.
    await host.ack({"type": "room.settings", "notes_locked": True})
    late = await open_room.enter(people.c, room)
    assert "whiteboard_write" not in late.me["grants"]
    assert "notes_write" not in late.me["grants"]
    assert late.snapshot["room"]["settings"]["whiteboard_locked"] is True
    joined = await rest(room_node, people.b, "POST", f"/api/v1/rooms/{room}/join")
    assert {d["access"] for d in joined.json()["documents"]} == {"read"}
    await settle(host, a, b, late)
    assert len(a.received(of("room.settings"))) == 1


async def test_locked_room_keeps_newcomers_out(
    room_node: Node, people: People, open_room: RoomOpener
) -> None:
    room, clients = await classroom(open_room, people)
    host, a, _ = clients
    newcomer_token = await open_room.token(people.c, room)  # c never came in
    await host.ack({"type": "room.settings", "locked": True})
    await a.next(of("room.settings", changes={"locked": True}))
    refused = await rest(room_node, people.c, "POST", f"/api/v1/rooms/{room}/join")
    assert refused.status_code == 403
    late = await open_room.open(room, newcomer_token, welcome=False)
    assert await late.closed() == (4003, "room locked")
    # Someone who has been in may come back.
    await a.close()
    back = await open_room.enter(people.a, room)
    await host.next(of("presence.connected", conn_id=back.conn_id))
    await host.ack({"type": "room.settings", "locked": False})
    await open_room.enter(people.c, room)


async def test_room_full_closes_4009(open_room: RoomOpener, people: People) -> None:
    room, [host, a] = await open_room(
        people.host,
        members=[(people.a, "participant"), (people.b, "participant")],
        enter=(people.host, people.a),
        max_participants=1,
    )
    b = await open_room.open(room, await open_room.token(people.b, room), welcome=False)
    assert await b.closed() == (4009, "room full")
    # Hosts do not count, and a second tab of someone inside is not a new participant.
    a2 = await open_room.enter(people.a, room)
    assert a2.me["user_id"] == a.user_id
    second = await host.next(of("presence.connected", conn_id=a2.conn_id))
    assert second["first"] is False
    await a.close()
    await a2.close()
    await host.next(lambda m: m.get("type") == "presence.disconnected" and m["last"])
    await open_room.enter(people.b, room)


async def test_end_closes_every_socket_with_4010(
    room_node: Node, people: People, open_room: RoomOpener
) -> None:
    room, clients = await classroom(open_room, people)
    host, a, _ = clients
    await a.error({"type": "room.end"}, "forbidden")
    token = await open_room.token(people.c, room)
    await host.send({"type": "room.end"})
    for client in clients:
        event = await client.next(of("room.ended"))
        assert event["by"] == host.user_id
        datetime.fromisoformat(event["at"])
        assert await client.closed() == (4010, "room ended")
    refused = await rest(room_node, people.c, "POST", f"/api/v1/rooms/{room}/join")
    assert refused.status_code == 410
    late = await open_room.open(room, token, welcome=False)
    assert await late.closed() == (4010, "room ended")
    got = await rest(room_node, people.host, "GET", f"/api/v1/rooms/{room}")
    assert got.json()["status"] == "ended"
    assert got.json()["ended_at"] is not None
