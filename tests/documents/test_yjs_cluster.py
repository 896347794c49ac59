"""Two nodes over one PostgreSQL and one Redis share documents: stock clients on different
nodes converge, see each other's cursors, and a lock set through one node holds on both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from yjskit import DOC_ENV, Classroom, NodeClients, classroom

from conftest import Node
from liveserver import IN_CI, LiveServer, PostgresServer
from redisserver import RedisServer, redis_server_binary
from roomclient import RoomClient, of, rest

pytestmark = pytest.mark.postgres


@pytest.fixture
def two_nodes(pg_server: PostgresServer, tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    """Nodes A and B on a fresh database and a private Redis."""
    if redis_server_binary() is None:
        if IN_CI:
            pytest.fail("redis-server is required under CI")
        pytest.skip("redis-server is not installed")
    redis = RedisServer().start()
    url = pg_server.create_database()
    env = {
        **DOC_ENV,
        "LIVECLASS_DATABASE_URL": url,
        "LIVECLASS_REDIS_URL": redis.url,
        "LIVECLASS_SECRET_KEY": "c" * 48,
    }
    nodes: list[Node] = []
    try:
        for name in ("a", "b"):
            server = LiveServer(data_dir=tmp_path / name, env=env).start()
            nodes.append(Node(server, "postgres", url))
        nodes[1]._admin_token = nodes[0].admin_token()
        yield nodes[0], nodes[1]
    finally:
        for node in nodes:
            node.server.stop()
        redis.stop()
        pg_server.drop_database(url)


async def test_clients_on_two_nodes_share_a_document(two_nodes: tuple[Node, Node]) -> None:
    a, b = two_nodes
    room = await classroom(a)
    on_b = Classroom(b, room.room_id, room.host, room.students, room.observer)  # via node B
    clients = NodeClients()
    try:
        clients.open("on-a", room, await room.token(room.host), awareness={"user": "ada"})
        clients.open("on-b", on_b, await room.token(room.students[0]), awareness={"user": "bo"})
        clients.wait("on-a", synced=True, peer="bo")
        clients.wait("on-b", synced=True, peer="ada")
        clients.call(
            "many",
            ops=[
                {"op": "edit", "client": "on-a", "prefix": "a-", "count": 40, "at": 0},
                {"op": "edit", "client": "on-b", "prefix": "b-", "count": 40, "at": 0},
            ],
        )
        tokens = [f"{c}-{i};" for c in "ab" for i in range(40)]
        text = clients.wait("on-a", textIncludes=tokens)["text"]
        assert clients.wait("on-b", textEquals=text)["text"] == text

        # A lock set through node A turns the writer on node B read-only: once a room
        # channel client on B has the event, B's Yjs connections have switched too.
        watcher = await RoomClient.enter(b, room.students[1], room.room_id)
        await room.patch(notes_locked=True)
        await watcher.next(of("room.settings"))
        await watcher.close()
        clients.call("edit", client="on-b", insert="locked on B. ")
        clients.wait("on-b", denied=1)
        clients.call("edit", client="on-a", insert="host on A. ")
        clients.wait("on-b", textIncludes=["host on A."])
        assert "locked on B" not in clients.state("on-a")["text"]

        clients.call("destroy", client="on-a")
        clients.wait("on-b", noPeer="ada")

        # Deleting through node A closes node B's connections too, and B forgets its copy.
        deleted = await rest(
            a, room.host, "DELETE", f"/api/v1/documents/rooms/{room.room_id}/notes"
        )
        assert deleted.status_code == 204
        clients.wait("on-b", closed=4004)
        clients.open("fresh-on-b", on_b, await room.token(room.students[1]))
        assert clients.wait("fresh-on-b", synced=True)["text"] == ""
    finally:
        clients.close()
