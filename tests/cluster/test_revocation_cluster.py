"""Grants and revocations across two nodes over one PostgreSQL and one Redis.

A role a host changes through one node holds for an old join token used on the other; and
signing out everywhere through one node closes the person's room and Yjs connections on
both at once (the revocation signal crosses nodes on the broker), their old join tokens
refused on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kits.cluster import Cluster, cluster_of, private_redis
from kits.opener import RoomOpeners
from kits.redis_server import RedisServer
from kits.rooms import of, register, rest
from kits.servers import PostgresServer
from kits.yjs import RawClient

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
SIGNED_OUT = (4001, "signed out")


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    """A private Redis for this test."""
    yield from private_redis()


@pytest.fixture
def cluster(redis: RedisServer, pg_server: PostgresServer, tmp_path: Path) -> Iterator[Cluster]:
    """Nodes a and b on a fresh database and the private Redis."""
    with cluster_of(["a", "b"], redis, pg_server, tmp_path) as found:
        yield found


def _notes(room_id: str) -> str:
    return f"rooms/{room_id}/notes"


async def test_roles_and_revocations_hold_on_every_node(
    cluster: Cluster, rooms_on: RoomOpeners
) -> None:
    a, b = cluster.nodes
    at_a, at_b = rooms_on(a), rooms_on(b)
    host, cohost, student = register(a, "instructor"), register(a), register(a)
    room_id = await at_a.room(host, members=[(cohost, "co-host"), (student, "participant")])

    # A co-host demoted through node A comes back through node B with an old token: a
    # participant, though node B never saw the demotion (it had not loaded the room).
    old = await at_b.token(cohost, room_id)
    teacher = await at_a.enter(host, room_id)
    first = await at_a.open(room_id, old)
    demote = {"type": "participant.set_role", "user_id": cohost.user_id, "role": "participant"}
    await teacher.ack(demote)
    await first.close()
    back = await at_b.open(room_id, old)
    assert back.me["role"] == "participant"
    await back.error({"type": "room.mute_all"}, "forbidden")

    # The student's sockets on both nodes close when they sign out everywhere through A.
    token = await at_a.token(student, room_id)
    on_a = await at_a.open(room_id, token)
    on_b = await at_b.open(room_id, token)
    notes_a = await RawClient.open(a, _notes(room_id), token)
    notes_b = await RawClient.open(b, _notes(room_id), token)
    done = await rest(a, student, "POST", "/api/v1/auth/logout", json={"everywhere": True})
    assert done.status_code == 204
    assert await on_a.closed() == SIGNED_OUT
    assert await on_b.closed() == SIGNED_OUT
    assert await notes_a.closed() == SIGNED_OUT
    assert await notes_b.closed() == SIGNED_OUT
    for _ in range(2):  # one departure per node (each may see the other's as still there)
        await back.next(of("presence.disconnected", user_id=student.user_id))
    for node in (a, b):
        again = await rooms_on(node).open(room_id, token, welcome=False)
        assert await again.closed() == SIGNED_OUT
        document = await RawClient.open(node, _notes(room_id), token, sync=False)
        assert await document.closed() == SIGNED_OUT
