"""Per-connection rate limits on the Yjs channel: a client flooding messages (queries,
awareness "pings", updates) or bytes is closed with 4029; everyone else carries on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed

from kits.nodes import Node, start_node
from kits.yjs import DOC_ENV, RawClient, classroom
from realtime.yjs.messages import encode_query_awareness

LIMITS = {
    **DOC_ENV,
    "LIVECLASS_YJS_MESSAGES_PER_SECOND": "20",
    "LIVECLASS_YJS_MESSAGE_BURST": "40",
    "LIVECLASS_YJS_BYTES_PER_SECOND": "65536",
}


@pytest.fixture(scope="module")
def limited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    yield from start_node(tmp_path_factory.mktemp("limited"), "sqlite", request, **LIMITS)


async def flood(client: RawClient, frame: bytes, times: int) -> None:
    try:
        for _ in range(times):
            await client.send(frame)
    except ConnectionClosed:
        pass


async def test_a_message_flood_is_closed_with_4029(limited: Node) -> None:
    room = await classroom(limited)
    flooder = await RawClient.open(limited, room.doc(), await room.token(room.students[0]))
    calm = await RawClient.open(limited, room.doc(), await room.token(room.students[1]))
    await flood(flooder, encode_query_awareness(), 500)
    code, reason = await flooder.closed()
    assert code == 4029
    assert "slow down" in reason
    await calm.insert("unaffected")
    host = await RawClient.open(limited, room.doc(), await room.token(room.host))
    await host.until(lambda c: "unaffected" in c.text)
    assert calm.close_code is None
    await calm.close()
    await host.close()


async def test_a_byte_flood_is_closed_with_4029(limited: Node) -> None:
    room = await classroom(limited)
    flooder = await RawClient.open(limited, room.doc(), await room.token(room.students[0]))
    for _ in range(12):  # 12 updates of ~30 KB: within the message budget, past the bytes one
        try:
            await flooder.insert("x" * 30_000)
        except ConnectionClosed:
            break
    code, _ = await flooder.closed()
    assert code == 4029


async def test_a_client_within_its_budget_is_never_limited(limited: Node) -> None:
    room = await classroom(limited)
    writer = await RawClient.open(limited, room.doc(), await room.token(room.students[0]))
    for index in range(30):  # under the burst
        await writer.insert(f"w{index};")
    reader = await RawClient.open(limited, room.doc(), await room.token(room.host))
    await reader.until(lambda c: "w29;" in c.text)
    assert writer.close_code is None
    await writer.close()
    await reader.close()
