"""Two liveclass nodes over one PostgreSQL and one Redis serve the same rooms.

Real processes: a private PostgreSQL cluster and a private redis-server on free ports, and
two (or three) nodes sharing them. Clients on different nodes are in the same class.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kits.cluster import Cluster, cluster_of, private_redis
from kits.opener import RoomOpeners
from kits.redis_server import RedisServer
from kits.rooms import chat_with, of, register
from kits.servers import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
PRESENCE_TTL = "3"


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    """A private Redis for this module."""
    yield from private_redis()


@pytest.fixture
def cluster(redis: RedisServer, pg_server: PostgresServer, tmp_path: Path) -> Iterator[Cluster]:
    """Two nodes on a fresh database and the module's Redis."""
    with cluster_of(
        ["a", "b"], redis, pg_server, tmp_path, LIVECLASS_PRESENCE_TTL_SECONDS=PRESENCE_TTL
    ) as found:
        yield found


async def test_chat_hands_and_presence_cross_nodes(cluster: Cluster, rooms_on: RoomOpeners) -> None:
    a, b = cluster.nodes
    host, student = register(a, "instructor"), register(a)
    room, [teacher] = await rooms_on(a)(host, enter=[host], open=True)
    pupil = await rooms_on(b).enter(student, room)
    # Presence: the node-A client sees the node-B arrival, and B's snapshot lists A's.
    await teacher.next(of("presence.connected", by=student.user_id))
    listed = {p["user_id"] for p in pupil.snapshot["participants"]}
    assert host.user_id in listed
    # Chat both ways, with one sequence for the room across nodes.
    await pupil.ack({"type": "chat.send", "text": "hello from B"})
    await teacher.next(chat_with("hello from B"))
    await teacher.ack({"type": "chat.send", "text": "hello from A"})
    await pupil.next(chat_with("hello from A"))
    # Hands: raised on B, in A's queue, lowered by the host on A.
    await pupil.ack({"type": "hand.raise"})
    raised = await teacher.next(of("hand.raised"))
    assert raised["user_id"] == student.user_id
    await teacher.ack({"type": "hand.lower", "user_id": student.user_id})
    await pupil.next(of("hand.lowered"))
    # Polls: created on A, voted on B, live results to the host on A.
    poll = await teacher.ack({"type": "poll.create", "question": "2+2?", "options": ["3", "4"]})
    await pupil.next(of("poll.created"))
    await pupil.ack({"type": "poll.vote", "poll_id": poll["poll_id"], "choices": [1]})
    vote = await teacher.next(of("poll.voted"))
    assert vote["choices"] == [1]
    seqs_a = [m["seq"] for m in teacher.log if "seq" in m]
    seqs_b = [m["seq"] for m in pupil.log if "seq" in m]
    shared = set(seqs_a) & set(seqs_b)
    assert shared, "both nodes must see the same sequenced events"


async def test_late_node_learns_who_is_there_and_raised_hands(
    cluster: Cluster, rooms_on: RoomOpeners
) -> None:
    a, b = cluster.nodes
    host, student = register(a, "instructor"), register(a)
    room, [pupil] = await rooms_on(a)(host, enter=[student], open=True)
    await pupil.ack({"type": "hand.raise"})
    await pupil.ack({"type": "status.set", "camera": True})
    # Node B has not loaded the room yet: it must seed it from shared presence.
    teacher = await rooms_on(b).enter(host, room)
    snapshot = teacher.snapshot
    pupil_row = next(p for p in snapshot["participants"] if p["user_id"] == student.user_id)
    assert pupil_row["camera"] is True
    assert [h["user_id"] for h in snapshot["hands"]] == [student.user_id]


async def test_reconnect_to_another_node_recovers(cluster: Cluster, rooms_on: RoomOpeners) -> None:
    a, b = cluster.nodes
    host, student = register(a, "instructor"), register(a)
    room, [teacher, pupil] = await rooms_on(a)(host, enter=(host, student), open=True)
    await pupil.ack({"type": "chat.send", "text": "before"})
    await teacher.next(chat_with("before"))
    epoch, seq = teacher.epoch, teacher.seq
    await teacher.close()
    for i in range(8):
        await pupil.ack({"type": "chat.send", "text": f"missed {i}"})
    token_holder = await rooms_on(b).enter(host, room, epoch=epoch, seq=seq)
    assert token_holder.welcome is not None
    assert token_holder.welcome["recovered"] is True
    texts = [m["message"]["text"] for m in token_holder.log if m.get("type") == "chat.message"]
    assert texts == [f"missed {i}" for i in range(8)]


async def test_a_killed_node_participants_leave_everyone_list(
    cluster: Cluster, rooms_on: RoomOpeners
) -> None:
    a, b = cluster.nodes
    host, student = register(a, "instructor"), register(a)
    on_a = rooms_on(a)
    room, [teacher] = await on_a(host, enter=[host], open=True)
    pupil = await rooms_on(b).enter(student, room)
    await teacher.next(of("presence.connected", by=student.user_id))
    await pupil.ack({"type": "chat.send", "text": "acknowledged before the crash"})
    b.server.kill()
    # Node A notices the dead node's connection once its presence entry expires.
    gone = await teacher.next(of("presence.disconnected", user_id=student.user_id), within=30)
    assert gone["last"] is True
    # The pupil reconnects to the surviving node; nothing acknowledged was lost.
    again = await on_a.enter(student, room)
    texts = [m["text"] for m in again.snapshot["chat"]]
    assert "acknowledged before the crash" in texts
