"""Hosts export a room's chat (JSON and CSV) after class; private messages stay private."""

from __future__ import annotations

import csv
import io

from kits.nodes import Node
from kits.opener import RoomOpeners
from kits.rooms import chat_with, close_all, register, rest


async def test_hosts_export_the_chat_without_private_messages(
    sqlite_node: Node, rooms_on: RoomOpeners
) -> None:
    node = sqlite_node
    host, student = register(node, "instructor"), register(node)
    room, [teacher, pupil] = await rooms_on(node)(host, enter=(host, student), open=True)
    await pupil.ack({"type": "chat.send", "text": "=1+1 public"})
    await pupil.ack({"type": "chat.send", "text": "for hosts", "to": "hosts"})
    await pupil.ack({"type": "chat.send", "text": "just you", "to": host.user_id})
    await teacher.next(chat_with("just you"))
    await close_all([teacher, pupil])
    exported = await rest(node, host, "GET", f"/api/v1/rooms/{room}/chat")
    assert exported.status_code == 200
    assert [(m["text"], m["to_hosts"]) for m in exported.json()] == [
        ("=1+1 public", False),
        ("for hosts", True),
    ]
    as_csv = await rest(node, host, "GET", f"/api/v1/rooms/{room}/chat", params={"format": "csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["text"] for r in rows] == ["'=1+1 public", "for hosts"]  # formula defused
    denied = await rest(node, student, "GET", f"/api/v1/rooms/{room}/chat")
    assert denied.status_code == 403
    bad = await rest(node, host, "GET", f"/api/v1/rooms/{room}/chat", params={"format": "xml"})
    assert bad.status_code == 422
