"""Two nodes over one PostgreSQL and one Redis share documents: stock clients on different
nodes converge, see each other's cursors, and a lock set through one node holds on both."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pycrdt
import pytest

from kits.nodes import Node
from kits.poison import QUARANTINE, overflowing, poison_the_log
from kits.redis_server import RedisServer, redis_server_binary
from kits.rooms import RoomClient, of, rest
from kits.servers import IN_CI, LiveServer, PostgresServer
from kits.yjs import DOC_ENV, Classroom, NodeClients, RawClient, classroom
from realtime.yjs.lib0 import encode_var_uint
from realtime.yjs.messages import encode_sync_update

pytestmark = pytest.mark.postgres


@pytest.fixture
def two_nodes(pg_server: PostgresServer, tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    """Nodes A and B on a fresh database and a private Redis."""
    if redis_server_binary() is None:
        if IN_CI:
            pytest.fail("redis-server is required under CI")
        pytest.skip("redis-server is not installed")
    redis = RedisServer().start()
    url = pg_server.create_database(migrated=True)
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


async def test_an_emoji_typed_on_one_node_cannot_be_cut_on_the_other(
    two_nodes: tuple[Node, Node],
) -> None:
    """B learns where A's astral characters lie from A's publications: a delete of half an
    emoji typed on A (Yrs would shift the document's clocks) is refused on B with 1002."""
    a, b = two_nodes
    room = await classroom(a)
    on_b = Classroom(b, room.room_id, room.host, room.students, room.observer)
    writer = await RawClient.open(a, room.doc(), await room.token(room.students[1]))
    attacker = await RawClient.open(b, room.doc(), await on_b.token(room.students[0]))
    await writer.insert("😀 from a")
    await attacker.until(lambda c: "from a" in c.text)
    v = encode_var_uint  # a delete set only: clock 1 of the writer, the emoji's second half
    await attacker.send(encode_sync_update(v(0) + v(1) + v(writer.doc.client_id) + v(1) * 3))
    code, reason = await attacker.closed()
    assert (code, "cuts a character" in reason) == (1002, True), reason
    await writer.insert("still ")
    watcher = await RawClient.open(b, room.doc(), await on_b.token(room.host))
    await watcher.until(lambda c: "still" in c.text and "😀 from a" in c.text)
    for client in (writer, watcher):
        await client.close()


async def test_a_poisoned_update_on_one_node_harms_nobody_on_either(
    two_nodes: tuple[Node, Node],
) -> None:
    """Refused on A before it is stored or published: B's clients never see it and keep
    editing; a poison already in the shared log is quarantined once, by whichever node
    loads the document, and both nodes serve the good content."""
    a, b = two_nodes
    room = await classroom(a)
    on_b = Classroom(b, room.room_id, room.host, room.students, room.observer)
    attacker = await RawClient.open(a, room.doc(), await room.token(room.students[0]))
    bystander = await RawClient.open(b, room.doc(), await on_b.token(room.students[1]))
    await attacker.insert("from a ")
    await bystander.until(lambda c: "from a" in c.text)
    await attacker.send(encode_sync_update(overflowing(attacker.doc)))
    assert (await attacker.closed())[0] == 1002
    await bystander.insert("from b")
    watcher = await RawClient.open(a, room.doc(), await room.token(room.host))
    await watcher.until(lambda c: "from b" in c.text)
    assert "boom" not in watcher.text and bystander.close_code is None
    for client in (bystander, watcher):
        await client.close()

    poison = await poison_the_log(on_b, "whiteboard")
    await asyncio.sleep(1.0)  # both nodes unload the idle whiteboard (0.5 s)
    readers = [
        await RawClient.open(node, room.doc("whiteboard"), await room.token(room.host))
        for node in (a, b)
    ]
    for reader in readers:
        await reader.until(lambda c: "good content" in str(c.doc.get("notes", type=pycrdt.Text)))
        await reader.close()
    admin = {"authorization": f"Bearer {a.admin_token()}"}
    async with httpx.AsyncClient(base_url=a.server.url, headers=admin) as http:
        listed = await http.get(QUARANTINE, params={"doc": room.doc("whiteboard")})
    assert [base64.b64decode(i["data_base64"]) for i in await details(a, listed.json())] == [poison]


async def details(node: Node, page: dict[str, Any]) -> list[dict[str, Any]]:
    admin = {"authorization": f"Bearer {node.admin_token()}"}
    async with httpx.AsyncClient(base_url=node.server.url, headers=admin) as http:
        return [(await http.get(f"{QUARANTINE}/{i['id']}")).json() for i in page["items"]]
