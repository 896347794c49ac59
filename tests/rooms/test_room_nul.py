"""NUL characters in room messages are refused with a clear error on SQLite and PostgreSQL
alike (PostgreSQL cannot store them): the sender's socket stays open, nobody else sees
anything, and the room's history holds only what was accepted."""

from __future__ import annotations

import pytest

from kits.nodes import Node
from kits.rooms import RoomClient, chat_with, close_all, create_room, invite, of, register, settle

pytestmark = pytest.mark.postgres


async def test_nul_in_room_messages_is_refused_and_harms_no_one(node: Node) -> None:
    host, student = register(node, "instructor"), register(node)
    room = await create_room(node, host)
    await invite(node, host, room, student, "participant")
    teacher = await RoomClient.enter(node, host, room)
    sender = await RoomClient.enter(node, student, room)

    sent = await sender.ack({"type": "chat.send", "text": "fine"})
    refused = [
        ({"type": "chat.send", "text": "bad\x00text"}, "text"),
        ({"type": "chat.edit", "message_id": sent["message_id"], "text": "\x00"}, "text"),
        ({"type": "breakout.broadcast", "text": "x\x00"}, "text"),
        ({"type": "poll.create", "question": "Q?", "options": ["a", "b\x00"]}, "options.1"),
    ]
    for message, field in refused:
        error = await sender.error(message, "invalid-message")
        assert f"{field}: NUL characters (U+0000) are not allowed" in error["message"], error
    assert sender.is_open

    # Nobody saw them; the room carries on, and its history keeps only what was accepted.
    await sender.ack({"type": "chat.send", "text": "after"})
    await teacher.next(chat_with("after"))
    await settle(teacher, sender)
    assert teacher.received(of("chat.edited")) == []
    assert teacher.received(of("poll.created")) == []
    assert not any("\x00" in str(m) for m in teacher.log)
    await close_all([teacher, sender])

    again = await RoomClient.enter(node, host, room)
    texts = [m["text"] for m in again.snapshot["chat"]]
    assert texts == ["fine", "after"]
    await again.close()
