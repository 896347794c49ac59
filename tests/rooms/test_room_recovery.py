"""Recovery: a client that drops while messages flow reconnects with its position and gets
every missed event exactly once, in order; a position too old, from another epoch or from
the future gets a fresh snapshot instead."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kits.nodes import Node, start_node
from kits.opener import RoomOpener, RoomOpeners
from kits.rooms import (
    Message,
    Person,
    chat_with,
    of,
    register,
    settle,
)

MESSAGES = 500


@dataclass
class People:
    host: Person
    a: Person
    sender: Person
    b: Person


def people_on(node: Node) -> People:
    return People(register(node, "instructor"), register(node), register(node), register(node))


@pytest.fixture(scope="module")
def people(room_node: Node) -> People:
    return people_on(room_node)


def texts(messages: list[Message]) -> list[str]:
    return [m["message"]["text"] for m in messages if m.get("type") == "chat.message"]


async def test_drop_during_500_messages_then_recover_exactly_once_in_order(
    open_room: RoomOpener, people: People
) -> None:
    room, [host, a] = await open_room(people.host, enter=(people.host, people.a), open=True)
    a_token = await open_room.token(people.a, room)
    # One connection may send 10 chat messages at once, then 5 a second: use many.
    pool = await open_room.pool(people.sender, room, size=MESSAGES // 10 + 2)
    expected = [f"message {i:03d}" for i in range(MESSAGES)]
    sent = 0
    dropped = asyncio.Event()
    back_in = asyncio.Event()

    async def send_all() -> None:
        nonlocal sent
        for text in expected:
            await pool.say(text)
            sent += 1
            if sent == 100:
                dropped.set()
            if sent == 300:
                back_in.set()

    sender = asyncio.create_task(send_all())
    await dropped.wait()
    a.drop()  # no close frame: the network went away
    await a.closed()
    before = texts(a.log)
    assert a.epoch is not None and a.seq is not None
    since = (a.epoch, a.seq)
    await back_in.wait()
    # Reconnect while messages are still being sent.
    a2 = await open_room.open(room, a_token, epoch=since[0], seq=since[1], label="a-again")
    await sender
    await a2.next(chat_with(expected[-1]))
    assert a2.welcome is not None
    assert a2.welcome["recovered"] is True
    assert "snapshot" not in a2.welcome
    assert "recovery_failed" not in a2.welcome
    assert a2.welcome["position"] == {"epoch": since[0], "seq": since[1]}
    after = texts(a2.log)
    assert before and after, "the drop happened while messages flowed"
    assert before + after == expected, "every message exactly once, in order"
    # Every event after the position came, with no gap and no repeat (all were public).
    seqs = [m["seq"] for m in a2.log if "seq" in m]
    assert seqs == list(range(since[1] + 1, since[1] + 1 + len(seqs)))
    # It saw its own departure and return among them.
    assert a2.received(of("presence.disconnected", user_id=a.user_id))
    assert a2.received(of("presence.connected", conn_id=a2.conn_id))
    # The host, who never left, has everything too.
    await host.next(chat_with(expected[-1]))
    assert texts(host.log) == expected
    await pool.close()


async def test_positions_that_cannot_be_recovered_get_a_snapshot(
    open_room: RoomOpener, people: People
) -> None:
    room, [host] = await open_room(people.host, enter=[people.host], open=True)
    await host.ack({"type": "chat.send", "text": "in the snapshot"})
    token = await open_room.token(people.a, room)
    assert host.epoch is not None and host.seq is not None
    cases = {
        "epoch changed": {"epoch": "0123456789abcdef", "seq": 1},
        "offset ahead of stream": {"epoch": host.epoch, "seq": host.seq + 1000},
    }
    for reason, position in cases.items():
        client = await open_room.open(room, token, **position)
        assert client.welcome is not None
        assert client.welcome["recovered"] is False
        assert client.welcome["recovery_failed"] == reason
        assert client.welcome["position"]["epoch"] == host.epoch
        assert [m["text"] for m in client.snapshot["chat"]] == ["in the snapshot"]
        await client.close()
    # No position (or a malformed one): a plain snapshot, no complaint.
    for query in ({}, {"epoch": host.epoch}, {"epoch": host.epoch, "seq": "x"}):
        client = await open_room.open(room, token, **query)
        assert client.welcome is not None
        assert client.welcome["recovered"] is False
        assert "recovery_failed" not in client.welcome
        await client.close()


async def test_recovery_skips_events_for_others(open_room: RoomOpener, people: People) -> None:
    room, [host, a, b] = await open_room(
        people.host, enter=(people.host, people.a, people.b), open=True
    )
    token = await open_room.token(people.a, room)
    await a.close()
    assert a.epoch is not None and a.seq is not None
    await b.ack({"type": "chat.send", "text": "public 1"})
    await b.ack({"type": "chat.send", "text": "only the host", "to": host.user_id})
    await b.ack({"type": "chat.send", "text": "public 2"})
    await host.ack({"type": "participant.ask_unmute", "user_id": b.user_id})
    await b.ack({"type": "chat.send", "text": "public 3"})
    a2 = await open_room.open(room, token, epoch=a.epoch, seq=a.seq)
    await a2.next(chat_with("public 3"))
    assert a2.welcome is not None and a2.welcome["recovered"] is True
    assert texts(a2.log) == ["public 1", "public 2", "public 3"]
    assert a2.received(of("participant.unmute_requested")) == []
    seqs = [m["seq"] for m in a2.log if "seq" in m]
    assert seqs == sorted(set(seqs))
    assert any(later - earlier > 1 for earlier, later in itertools.pairwise(seqs))


@pytest.fixture(scope="module")
def short_history(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """A node that keeps only the last 50 events of each room."""
    yield from start_node(
        tmp_path_factory.mktemp("short"), "sqlite", request, LIVECLASS_ROOM_HISTORY_SIZE="50"
    )


async def test_too_old_position_gets_a_snapshot(
    short_history: Node, rooms_on: RoomOpeners, tmp_path: Path
) -> None:
    people = people_on(short_history)
    open_room = rooms_on(short_history)
    room, [host] = await open_room(people.host, enter=[people.host], open=True)
    token = await open_room.token(people.a, room)
    pool = await open_room.pool(people.sender, room, size=8)
    early = await open_room.open(room, token, label="early")
    await early.close()
    for i in range(60):
        await pool.say(f"flood {i}")
    late = await open_room.open(room, token, label="late")
    await late.close()
    for i in range(10):
        await pool.say(f"more {i}")
    await host.next(chat_with("more 9"))
    assert early.seq is not None and late.seq is not None
    # 70 chat messages later, the early position is out of the 50 kept: a snapshot.
    too_old = await open_room.open(room, token, epoch=early.epoch, seq=early.seq)
    assert too_old.welcome is not None
    assert too_old.welcome["recovered"] is False
    assert too_old.welcome["recovery_failed"] == "history gap"
    chat = [m["text"] for m in too_old.snapshot["chat"]]
    assert chat == [f"flood {i}" for i in range(60)] + [f"more {i}" for i in range(10)]
    assert too_old.welcome["position"]["seq"] >= host.seq
    await too_old.close()
    # The late position is still covered: recovered, just the 10 it missed (plus presence).
    recent = await open_room.open(room, token, epoch=late.epoch, seq=late.seq)
    await recent.next(chat_with("more 9"))
    assert recent.welcome is not None and recent.welcome["recovered"] is True
    assert texts(recent.log) == [f"more {i}" for i in range(10)]
    await settle(host, recent)
    await pool.close()
