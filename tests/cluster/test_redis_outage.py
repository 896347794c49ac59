"""Redis stopped mid-class: nodes keep serving their rooms and documents, then converge.

Two nodes over one PostgreSQL and a Redis of this test's own. Participants on both nodes chat
and stock Yjs clients on both nodes edit the notes; Redis is killed (or paused) mid-class; each
node keeps serving its own participants (acked, live, durable); when Redis is back on the same
port every participant ends with every chat message exactly once, in one order, and the
documents converge.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kits.cluster import Cluster, cluster_of, private_redis
from kits.metrics import gauges
from kits.nodes import Node
from kits.opener import RoomOpener, RoomOpeners
from kits.redis_server import RedisServer
from kits.rooms import ClosedError, Person, RoomClient, chat_with
from kits.rooms import register as register_person
from kits.servers import PostgresServer
from kits.yjs import DOC_ENV, Classroom, NodeClients

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    """This test's own Redis, to kill and restart on the same port."""
    yield from private_redis()


@pytest.fixture
def cluster(redis: RedisServer, pg_server: PostgresServer, tmp_path: Path) -> Iterator[Cluster]:
    with cluster_of(
        ["a", "b"], redis, pg_server, tmp_path, LIVECLASS_PRESENCE_TTL_SECONDS="3", **DOC_ENV
    ) as found:
        yield found


class Seat:
    """One participant at one node (``rooms``: the room set-up there), reconnecting like a
    browser would."""

    def __init__(self, rooms: RoomOpener, person: Person, room_id: str, client: RoomClient) -> None:
        self.rooms, self.person, self.room_id, self.client = rooms, person, room_id, client

    async def rejoin(self) -> None:
        """Reconnect with the last position seen (the server answers with a fresh snapshot)."""
        old = self.client
        await old.closed()
        self.client = await self.rooms.enter(
            self.person, self.room_id, epoch=old.epoch, seq=old.seq
        )

    def chat(self) -> list[str]:
        """Chat texts as this participant sees them: the last snapshot, then live messages."""
        welcome = self.client.welcome
        assert welcome is not None
        texts = [m["text"] for m in welcome.get("snapshot", {}).get("chat", [])]
        start = self.client.log.index(welcome)
        live = self.client.log[start + 1 :]
        return texts + [m["message"]["text"] for m in live if m.get("type") == "chat.message"]

    async def sees(self, text: str) -> None:
        """Wait until `text` is in this participant's chat, rejoining after resync closes."""
        for _ in range(5):
            if text in self.chat():
                return
            try:
                await self.client.next(chat_with(text))
                return
            except ClosedError:
                await self.rejoin()
        raise AssertionError(f"{self.person.email} never saw {text!r}")


def broker_state(node: Node) -> tuple[str, dict[str, float]]:
    """The node's /readyz status and its `liveclass_broker` gauges."""
    ready = httpx.get(node.url + "/readyz", timeout=10).json()["status"]
    return ready, gauges(node.url, "broker")


async def until_healed(nodes: list[Node]) -> None:
    """Wait until every node is connected to Redis again with no local-only channel left."""
    async with asyncio.timeout(60):
        while True:
            states = [await asyncio.to_thread(broker_state, node) for node in nodes]
            if all(r == "ready" and g["stale"] == 0 for r, g in states):
                return
            await asyncio.sleep(0.2)


@pytest.mark.parametrize("outage", ["restart", "pause"])
async def test_redis_outage_mid_class_then_everything_converges(
    cluster: Cluster, redis: RedisServer, rooms_on: RoomOpeners, outage: str
) -> None:
    a, b = cluster.nodes
    at_a, at_b = rooms_on(a), rooms_on(b)
    host, s1, s2, s3 = register_person(a, "instructor"), *(register_person(a) for _ in range(3))
    room_id = await at_a.room(host, open=True)
    seats = [
        Seat(rooms, person, room_id, await rooms.enter(person, room_id))
        for rooms, person in ((at_a, host), (at_a, s1), (at_b, s2), (at_b, s3))
    ]
    on_a, on_b = seats[:2], seats[2:]
    docs = NodeClients()
    room = Classroom(a, room_id, host, [s1, s2], s3)
    room_b = Classroom(b, room_id, host, [s1, s2], s3)
    try:
        docs.open("y-a", room, await room.token(host))
        docs.open("y-b", room_b, await room.token(s2))
        await docs.acall("wait", client="y-a", until={"synced": True}, timeout=30000)
        await docs.acall("wait", client="y-b", until={"synced": True}, timeout=30000)
        await on_a[0].client.ack({"type": "chat.send", "text": "before A"})
        await on_b[0].client.ack({"type": "chat.send", "text": "before B"})
        docs.call("edit", client="y-a", insert="before-a;")
        docs.call("edit", client="y-b", insert="before-b;")
        for seat in seats:
            await seat.sees("before A")
            await seat.sees("before B")

        redis.pause() if outage == "pause" else redis.kill()
        # Each node serves its own participants: acked, and live to the others on that node.
        for i in range(3):
            await on_a[i % 2].client.ack({"type": "chat.send", "text": f"during A{i}"})
            await on_b[i % 2].client.ack({"type": "chat.send", "text": f"during B{i}"})
        for i in range(3):
            await on_a[1 - i % 2].client.next(chat_with(f"during A{i}"))
            await on_b[1 - i % 2].client.next(chat_with(f"during B{i}"))
        docs.call("edit", client="y-a", insert="during-a;")
        docs.call("edit", client="y-b", insert="during-b;")
        ready, broker = await asyncio.to_thread(broker_state, a)
        assert (ready, broker["connected"], broker["degraded"]) == ("degraded", 0.0, 1.0)

        redis.resume() if outage == "pause" else redis.start()
        await until_healed([a, b])
        after = "after the outage"
        for seat in seats:  # the resync closes every connection once or twice; rejoin
            for _ in range(5):
                if seat.client.is_open:
                    break
                await seat.rejoin()
        await on_a[1].client.ack({"type": "chat.send", "text": after})
        expected = ["before A", "before B", *(f"during {n}{i}" for i in range(3) for n in "AB")]
        for seat in seats:
            await seat.sees(after)
            for text in expected:
                await seat.sees(text)
        views = [seat.chat() for seat in seats]
        for view in views:
            assert Counter(view) == Counter([*expected, after]), view
            for node in "AB":  # each sender's messages in the order they were sent
                mine = [t for t in view if t.startswith(f"during {node}")]
                assert mine == [f"during {node}{i}" for i in range(3)]
        assert all(view == views[0] for view in views), "one order for everyone"

        tokens = ["before-a;", "before-b;", "during-a;", "during-b;"]
        text = (await docs.acall("wait", client="y-a", until={"textIncludes": tokens}))["text"]
        final = await docs.acall("wait", client="y-b", until={"textEquals": text})
        assert final["text"] == text
        assert all(text.count(token) == 1 for token in tokens)
    finally:
        docs.close()
