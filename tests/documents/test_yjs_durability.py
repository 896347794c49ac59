"""Documents outlive the node: a restart with no client connected loses nothing, and a
SIGKILL loses no update any client saw from the server (stock clients, real databases)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kits.nodes import Node, database_url
from kits.rooms import rest
from kits.servers import LiveServer
from kits.waiting import eventually
from kits.yjs import DOC_ENV, Classroom, NodeClients, classroom
from persistence.engine import create_engine
from persistence.models import DocumentSnapshot, DocumentUpdate

pytestmark = pytest.mark.postgres
TOKEN = re.compile(r"w\d-\d+;")


def start(tmp_path: Path, backend: str, url: str) -> Node:
    env = {**DOC_ENV, "LIVECLASS_SECRET_KEY": "t" * 48, "LIVECLASS_YJS_COMPACT_THRESHOLD": "10"}
    if url:
        env["LIVECLASS_DATABASE_URL"] = url
    return Node(LiveServer(data_dir=tmp_path / "data", env=env).start(), backend, url)


async def stored(node: Node, name: str) -> tuple[int, int]:
    """(log rows, snapshot rows) of a document, read straight from the database."""
    url = node.database_url or f"sqlite+aiosqlite:///{node.server.data_dir / 'liveclass.db'}"
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            log = await connection.scalar(
                select(func.count()).select_from(DocumentUpdate).where(DocumentUpdate.doc == name)
            )
            snapshots = await connection.scalar(
                select(func.count())
                .select_from(DocumentSnapshot)
                .where(DocumentSnapshot.doc == name)
            )
    finally:
        await engine.dispose()
    return int(log or 0), int(snapshots or 0)


async def has_snapshot(room: Classroom) -> bool:
    return (await stored(room.node, room.doc()))[1] == 1


async def content(room: Classroom, kind: str = "notes") -> dict[str, object]:
    response = await rest(
        room.node, room.host, "GET", f"/api/v1/documents/rooms/{room.room_id}/{kind}"
    )
    assert response.status_code == 200, response.text
    found: dict[str, object] = response.json()["content"]
    return found


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_restart_with_no_client_connected_loses_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = database_url(backend, request)
    room = await classroom(start(tmp_path, backend, url))
    clients = NodeClients()
    try:
        clients.open("a", room, await room.token(room.host))
        clients.open("b", room, await room.token(room.students[0]))
        clients.open("w", room, await room.token(room.students[1]), kind="whiteboard")
        clients.wait("a", synced=True)
        clients.wait("b", synced=True)
        clients.call(
            "many",
            ops=[
                {"op": "edit", "client": "a", "prefix": "a-", "count": 80},
                {"op": "edit", "client": "b", "prefix": "b-", "count": 80},
                {"op": "edit", "client": "w", "shape": {"id": "s1", "fields": {"type": "rect"}}},
            ],
        )
        expected = [f"{c}-{i};" for c in "ab" for i in range(80)]
        clients.wait("a", textIncludes=expected)
        # Round trips, one log entry each: enough for a compaction, then a tail after it.
        for i in range(12):
            clients.call("edit", client="a", insert=f"r{i};")
            clients.wait("b", textIncludes=[f"r{i};"])
        await eventually(lambda: has_snapshot(room), what="a compaction")
        for i in range(12, 15):
            clients.call("edit", client="b", insert=f"r{i};")
            clients.wait("a", textIncludes=[f"r{i};"])
        final = clients.state("a")["text"]
        clients.wait("b", textEquals=final)
    finally:
        clients.close()  # zero clients from here on: nobody can bring anything back

    async def compacted_at_rest() -> bool:
        return await stored(room.node, room.doc()) == (0, 1)

    # With no connection left the document is compacted: a cold load reads the snapshot only.
    await eventually(compacted_at_rest, what="the compaction of a document at rest")

    room.node.server.stop()
    room.node = Node(
        LiveServer(room.node.server.data_dir, room.node.server.env).start(), backend, url
    )
    try:
        assert (await content(room))["text"] == final
        shapes = (await content(room, "whiteboard"))["shapes"]
        assert shapes == [{"id": "s1", "type": "rect"}]
        fresh = NodeClients()
        try:
            fresh.open("c", room, await room.token(room.students[0]))
            assert fresh.wait("c", synced=True, textEquals=final)["text"] == final
        finally:
            fresh.close()
    finally:
        room.node.server.stop()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_sigkill_loses_no_update_a_client_saw(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = database_url(backend, request)
    room = await classroom(start(tmp_path, backend, url))
    writers, monitor = NodeClients(), NodeClients()
    try:
        writers.open("w1", room, await room.token(room.host))
        writers.open("w2", room, await room.token(room.students[0]))
        monitor.open("m", room, await room.token(room.students[1]))
        for client in ("w1", "w2"):
            writers.wait(client, synced=True)
        monitor.wait("m", synced=True)
        writers.call("stream", client="w1", prefix="w1-", every=2)
        writers.call("stream", client="w2", prefix="w2-", every=3)
        monitor.wait("m", minTokens=300)
        room.node.server.kill()  # edits are in flight
        writers.kill()  # the writers are gone for good: they cannot resend anything
        seen = set(TOKEN.findall(monitor.wait("m", disconnected=True)["text"]))
    finally:
        writers.close()
        monitor.close()
    assert room.node.server.process is not None
    assert room.node.server.process.returncode == -9
    assert len(seen) >= 300

    room.node = Node(
        LiveServer(room.node.server.data_dir, room.node.server.env).start(), backend, url
    )
    try:
        survived = set(TOKEN.findall(str((await content(room))["text"])))
        assert seen <= survived, f"lost {len(seen - survived)} updates the monitor saw"
        fresh = NodeClients()
        try:
            fresh.open("c", room, await room.token(room.students[1]))
            synced = fresh.wait("c", synced=True)
            assert seen <= set(TOKEN.findall(synced["text"]))
        finally:
            fresh.close()
    finally:
        room.node.server.stop()
