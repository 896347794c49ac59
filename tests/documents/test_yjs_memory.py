"""Documents without connections are unloaded after the idle time: the node's document
memory (loaded documents and the bytes they hold) returns to zero, and nothing is lost."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from kits.nodes import Node
from kits.yjs import Classroom, RawClient, classroom

pytestmark = pytest.mark.postgres
GAUGE = re.compile(r'^liveclass_documents\{kind="(\w+)"\} ([0-9.e+]+)$', re.M)


async def gauges(node: Node) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=node.url) as client:
        text = (await client.get("/metrics")).text
    return {kind: float(value) for kind, value in GAUGE.findall(text)}


async def until_gauge(node: Node, kind: str, value: float) -> dict[str, float]:
    """Poll /metrics until `kind` reads `value` (liveness bound 30 s, not a timing check)."""
    try:
        async with asyncio.timeout(30):
            while (found := await gauges(node))[kind] != value:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"{kind} never reached {value}: {await gauges(node)}") from None
    return found


async def test_idle_documents_unload_and_their_memory_returns(docs_node: Node) -> None:
    rooms: list[Classroom] = [await classroom(docs_node, students=1) for _ in range(3)]
    baseline = await until_gauge(docs_node, "loaded", 0)
    clients = []
    for room in rooms:
        for kind in ("notes", "whiteboard"):
            client = await RawClient.open(docs_node, room.doc(kind), await room.token(room.host))
            await client.insert(f"{kind} of {room.room_id}. " + "m" * 20_000)
            clients.append(client)
    # Each document's writes are stored before its first reader sees them.
    for room in rooms:
        reader = await RawClient.open(docs_node, room.doc(), await room.token(room.students[0]))
        await reader.until(lambda c, r=room: f"notes of {r.room_id}" in c.text)
        await reader.close()
    loaded = await gauges(docs_node)
    assert loaded["loaded"] == 6
    assert loaded["connections"] == 6
    assert loaded["stored_bytes"] > 6 * 20_000

    for client in clients:
        await client.close()
    idle = await until_gauge(docs_node, "loaded", 0)
    assert idle["stored_bytes"] == 0
    assert idle["connections"] == 0
    assert idle["unloaded_total"] >= baseline["unloaded_total"] + 6

    # Unloaded is not lost: the next connection loads the document back from the database.
    again = await RawClient.open(docs_node, rooms[0].doc(), await rooms[0].token(rooms[0].host))
    assert again.text.startswith(f"notes of {rooms[0].room_id}. ")
    assert (await gauges(docs_node))["loaded"] == 1
    await again.close()
    await until_gauge(docs_node, "loaded", 0)
