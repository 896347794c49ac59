"""The server's WebSocket keepalive: every connection is pinged, and one that never answers is
closed with 1011, so a dead client is noticed without the kernel's minutes-long timeouts."""

from __future__ import annotations

import asyncio
import struct

from kits.nodes import Node
from kits.opener import RoomOpeners
from kits.rawsocket import RawSocket
from kits.rooms import register

PING, CLOSE = 0x9, 0x8


def _frames_until_close(sock: RawSocket) -> tuple[list[int], bytes]:
    """Opcodes read (never answering a ping) until the server's close frame; its payload."""
    opcodes = []
    while True:
        opcode, payload = sock.read_frame()
        opcodes.append(opcode)
        if opcode == CLOSE:
            return opcodes, payload


async def test_a_client_that_never_answers_pings_is_closed_1011(
    sqlite_node: Node, rooms_on: RoomOpeners
) -> None:
    host = register(sqlite_node, "instructor")
    open_room = rooms_on(sqlite_node)
    room = await open_room.room(host, open=True)
    token = await open_room.token(host, room)
    sock = await asyncio.to_thread(RawSocket, sqlite_node, f"/ws/rooms/{room}?token={token}")
    try:
        opcodes, payload = await asyncio.to_thread(_frames_until_close, sock)
    finally:
        sock.close()
    assert PING in opcodes  # pinged (ws_ping_interval 10 s) before being given up on
    (code,) = struct.unpack("!H", payload[:2])
    assert (code, payload[2:]) == (1011, b"keepalive ping timeout")
