"""The y-websocket protocol as the server speaks it, seen from a raw client: the handshake,
awareness echo and queries, no echo of one's own updates, empty updates ignored."""

from __future__ import annotations

import pytest

from kits.nodes import Node
from kits.yjs import Classroom, RawClient, classroom
from realtime.yjs.awareness import AwarenessEntry, decode_awareness_update, encode_awareness_update
from realtime.yjs.messages import (
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    encode_awareness,
    encode_query_awareness,
    encode_sync_step1,
    encode_sync_update,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
async def room(docs_node: Node) -> Classroom:
    return await classroom(docs_node)


def sync_messages(client: RawClient) -> list[SyncStep1 | SyncStep2]:
    return [m for m in client.messages if isinstance(m, SyncStep1 | SyncStep2)]


def states(client: RawClient) -> dict[int, str]:
    """Every awareness entry the client received, latest per client id."""
    found: dict[int, str] = {}
    for message in client.awareness():
        for entry in decode_awareness_update(message.payload):
            found[entry.client_id] = entry.state
    return found


async def test_handshake_answers_step_2_then_asks_with_step_1(room: Classroom) -> None:
    client = await RawClient.open(room.node, room.doc(), await room.token(room.host), sync=False)
    await client.send(encode_sync_step1(b"\x00"))
    await client.until(lambda c: len(sync_messages(c)) >= 2)
    first, second = sync_messages(client)[:2]
    assert isinstance(first, SyncStep2)
    assert isinstance(second, SyncStep1)
    await client.close()


async def test_read_only_connections_are_not_asked_for_their_state(room: Classroom) -> None:
    observer = await RawClient.open(room.node, room.doc(), await room.token(room.observer))
    writer = await RawClient.open(room.node, room.doc(), await room.token(room.host))
    await writer.insert("ping. ")
    await observer.until(lambda c: "ping." in c.text)
    assert not any(isinstance(m, SyncStep1) for m in observer.messages)
    await observer.close()
    await writer.close()


async def test_awareness_is_echoed_to_its_sender_and_answered_on_query(room: Classroom) -> None:
    ada = await RawClient.open(room.node, room.doc(), await room.token(room.students[0]))
    bob = await RawClient.open(room.node, room.doc(), await room.token(room.students[1]))
    entry = AwarenessEntry(1001, 1, '{"user":"ada","cursor":3}')
    await ada.send(encode_awareness(encode_awareness_update([entry])))
    await ada.until(lambda c: states(c).get(1001) == entry.state)  # the echo keeps it alive
    await bob.until(lambda c: states(c).get(1001) == entry.state)

    renewed = AwarenessEntry(1001, 2, entry.state)  # the 15-second renewal, same state
    await ada.send(encode_awareness(encode_awareness_update([renewed])))
    await ada.until(lambda c: len(c.awareness()) >= 2)

    latecomer = await RawClient.open(room.node, room.doc(), await room.token(room.host))
    await latecomer.until(lambda c: states(c).get(1001) == entry.state)  # sent on connect
    before = len(latecomer.awareness())
    await latecomer.send(encode_query_awareness())
    await latecomer.until(lambda c: len(c.awareness()) > before)

    await ada.close()  # leaving removes ada's state for the others
    await bob.until(lambda c: states(c).get(1001) == "null")
    await latecomer.until(lambda c: states(c).get(1001) == "null")
    await bob.close()
    await latecomer.close()


async def test_updates_are_not_echoed_and_empty_updates_are_ignored(room: Classroom) -> None:
    kind = "whiteboard"
    alice = await RawClient.open(room.node, room.doc(kind), await room.token(room.students[0]))
    bob = await RawClient.open(room.node, room.doc(kind), await room.token(room.students[1]))
    await alice.send(encode_sync_update(b"\x00\x00"))
    await alice.insert("from alice. ")
    await bob.until(lambda c: "from alice." in c.text)
    await bob.insert("from bob. ")
    await alice.until(lambda c: "from bob." in c.text)
    from_server = [m for m in alice.messages if isinstance(m, SyncUpdate)]
    assert len(from_server) == 1  # bob's; never alice's own
    await alice.close()
    await bob.close()
