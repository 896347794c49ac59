"""NUL characters in room messages are refused with a clear error on SQLite and PostgreSQL
alike (PostgreSQL cannot store them): the sender's socket stays open, nobody else sees
anything, and the room's history holds only what was accepted."""

from __future__ import annotations

import pytest

from kits.nodes import Node
from kits.opener import RoomOpeners
from kits.rooms import chat_with, close_all, of, register, settle

pytestmark = pytest.mark.postgres


async def test_nul_in_room_messages_is_refused_and_harms_no_one(
    node: Node, rooms_on: RoomOpeners
) -> None:
    host, student = register(node, "instructor"), register(node)
    open_room = rooms_on(node)
    room, [teacher, sender] = await open_room(
        host, members=[(student, "participant")], enter=(host, student)
    )

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

    again = await open_room.enter(host, room)
    texts = [m["text"] for m in again.snapshot["chat"]]
    assert texts == ["fine", "after"]
