"""A stalled client (it never reads) is disconnected with 4008 once its send queue overflows,
while everyone else keeps getting every message -- asserted functionally: the sender waits
for a healthy client to receive each message before sending the next, so a fan-out that
waited on the stalled socket would deadlock the test instead of passing it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import httpx
import orjson
import pytest

from kits.nodes import Node, start_node
from kits.opener import RoomOpeners
from kits.rawsocket import RawSocket
from kits.rooms import chat_with, close_all, of, register

QUEUE_BYTES = 65_536
# A chat message of 3500 four-byte characters: about 14 KB on the wire, under the 16 KB
# inbound cap. The server's kernel send buffer on loopback grows to `tcp_wmem` max (4 MB
# by default); twice what the buffers and the queue can hold is a generous bound.
BIG = "😀" * 3500


def _max_messages() -> int:
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as limits:
            send_buffer = int(limits.read().split()[2])
    except (OSError, ValueError, IndexError):
        send_buffer = 4 << 20
    return 2 * (send_buffer + QUEUE_BYTES + (1 << 17)) // 14_000 + 50


MAX_MESSAGES = _max_messages()


@pytest.fixture(scope="module")
def small_queues(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    yield from start_node(
        tmp_path_factory.mktemp("slow"),
        "sqlite",
        request,
        LIVECLASS_SEND_QUEUE_BYTES=str(QUEUE_BYTES),
    )


async def test_stalled_client_is_closed_4008_and_others_get_everything(
    small_queues: Node, rooms_on: RoomOpeners
) -> None:
    node = small_queues
    host_person, stalled_person, sender = (
        register(node, "instructor"),
        register(node),
        register(node),
    )
    open_room = rooms_on(node)
    # The watcher: the same user as the stalled client, another tab.
    room, [host, watcher] = await open_room(
        host_person, enter=(host_person, stalled_person), open=True
    )
    pool = await open_room.pool(sender, room, size=max(30, MAX_MESSAGES // 20))

    # The stalled client: handshake, read the welcome, then never read again.
    token = await open_room.token(stalled_person, room)
    stalled = await asyncio.to_thread(RawSocket, node, f"/ws/rooms/{room}?token={token}")
    opcode, payload = await asyncio.to_thread(stalled.read_frame)
    assert opcode == 0x1
    welcome = orjson.loads(payload.split(b"\n")[0])
    assert welcome["type"] == "welcome"
    stalled_id = welcome["you"]["conn_id"]
    await host.next(of("presence.connected", conn_id=stalled_id))

    sent: list[str] = []
    disconnected = None
    for i in range(MAX_MESSAGES):
        text = f"{i:04d} {BIG}"
        await pool.say(text)
        sent.append(text)
        # Lockstep: the healthy reader gets each message before the next one is sent.
        await host.next(chat_with(text))
        found = host.received(of("presence.disconnected", conn_id=stalled_id))
        if found:
            disconnected = found[0]
            break
    assert disconnected is not None, "the stalled client was never disconnected"
    # A few more after the disconnect: the room carries on.
    for i in range(len(sent), len(sent) + 5):
        text = f"{i:04d} after"
        await pool.say(text)
        sent.append(text)
        await host.next(chat_with(text))
    # Every healthy client got every message, in order, exactly once.
    await watcher.next(chat_with(sent[-1]))
    for client in (host, watcher, pool.clients[0]):
        got = [m["message"]["text"] for m in client.received(of("chat.message"))]
        assert got == sent, client.label
    # The other tab of the same person was not affected.
    assert watcher.is_open

    # The stalled client, once it reads again, finds a prefix of the stream and close 4008.
    messages, code, reason = await asyncio.to_thread(stalled.messages_until_close)
    stalled.close()
    assert (code, reason) == (4008, "slow consumer")
    got = [m["message"]["text"] for m in messages if m.get("type") == "chat.message"]
    assert got == sent[: len(got)]
    assert len(got) < len(sent)
    last_seq = max(m["seq"] for m in messages if "seq" in m)

    # It reconnects with its position and recovers everything it missed.
    back = await open_room.open(room, token, epoch=welcome["position"]["epoch"], seq=last_seq)
    await back.next(chat_with(sent[-1]))
    assert back.welcome is not None and back.welcome["recovered"] is True
    rest = [m["message"]["text"] for m in back.received(of("chat.message"))]
    assert got + rest == sent
    await pool.close()
    await close_all([host, watcher, back])
    # /metrics counts the close by its code.
    async with httpx.AsyncClient(base_url=node.url, timeout=10) as http:
        metrics = (await http.get("/metrics")).text
    assert re.search(r'^liveclass_websocket_closes_total\{code="4008"\} [1-9]', metrics, re.M)


async def test_a_big_snapshot_is_not_a_slow_consumer(
    small_queues: Node, rooms_on: RoomOpeners
) -> None:
    """The welcome may be larger than the send queue: a newcomer still gets in."""
    node = small_queues
    host_person, newcomer = register(node, "instructor"), register(node)
    open_room = rooms_on(node)
    room, [host] = await open_room(host_person, enter=[host_person], open=True)
    pool = await open_room.pool(host_person, room, size=2)
    texts = [f"{i} {BIG}" for i in range(12)]  # about 170 KB of chat, over 64 KB of queue
    for text in texts:
        await pool.say(text)
    late = await open_room.enter(newcomer, room)
    assert [m["text"] for m in late.snapshot["chat"]] == texts
    await host.ack({"type": "chat.send", "text": "welcome!"})
    await late.next(chat_with("welcome!"))
    assert late.is_open
