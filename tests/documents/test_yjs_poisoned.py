"""No update can brick a document: updates that make Yrs panic are refused with 1002 before
they are stored, and one already stored (by an older server) is quarantined on load, after
an idle unload or a SIGKILL, while the document keeps its good content (both databases)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pycrdt
import pytest
from sqlalchemy import func, select
from websockets.exceptions import ConnectionClosed

from kits.nodes import Node, database_url
from kits.poison import QUARANTINE, engine_of, overflowing, poison_the_log
from kits.rooms import rest
from kits.servers import LiveServer
from kits.yjs import DOC_ENV, Classroom, RawClient, classroom
from persistence.models import QuarantinedUpdate
from realtime.yjs.lib0 import encode_var_uint
from realtime.yjs.messages import encode_sync_update

pytestmark = pytest.mark.postgres


def panics(state: bytes, update: bytes) -> bool:
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    doc.apply_update(state)
    try:
        doc.apply_update(update)
    except BaseException as exc:
        return type(exc).__name__ == "PanicException"
    return False


def test_the_overflowing_update_really_panics_yrs() -> None:
    """The premise of this module: without our guard, this update panics inside Yrs."""
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    doc.get("notes", type=pycrdt.Text).insert(0, "hello world")
    assert panics(doc.get_update(), overflowing(doc))


async def test_a_poisoned_update_closes_its_sender_and_harms_nobody(docs_node: Node) -> None:
    room = await classroom(docs_node)
    attacker = await RawClient.open(docs_node, room.doc(), await room.token(room.students[0]))
    bystander = await RawClient.open(docs_node, room.doc(), await room.token(room.students[1]))
    await attacker.insert("hello world ")
    await bystander.until(lambda c: "hello world" in c.text)
    await attacker.send(encode_sync_update(overflowing(attacker.doc)))
    code, _ = await attacker.closed()
    assert code == 1002
    await bystander.insert("still here")
    late = await RawClient.open(docs_node, room.doc(), await room.token(room.host))
    await late.until(lambda c: "still here" in c.text and "hello world" in c.text)
    assert "boom" not in late.text
    assert bystander.close_code is None
    for client in (bystander, late):
        await client.close()
    assert await count(room, QuarantinedUpdate) == 0  # refused, never stored


def _pending(doc: pycrdt.Doc[Any]) -> bytes:
    """The sender's next edit, with its first clock missing: Yrs would keep it pending."""
    writer: pycrdt.Doc[Any] = pycrdt.Doc(client_id=doc.client_id)
    writer.apply_update(doc.get_update())
    text = writer.get("notes", type=pycrdt.Text)
    text.insert(0, "a")
    before = writer.get_state()
    text.insert(0, "b")
    return writer.get_update(before)


def _cut_emoji(doc: pycrdt.Doc[Any]) -> bytes:
    """A delete of the second UTF-16 unit (clock 1) of the emoji the sender typed first."""
    v = encode_var_uint
    return v(0) + v(1) + v(doc.client_id) + v(1) + v(1) + v(1)  # one range: clock 1, length 1


def _embed(doc: pycrdt.Doc[Any]) -> bytes:
    """An embed in the notes' Markdown source, which the editors never write."""
    before = doc.get_state()
    doc.get("notes", type=pycrdt.Text).insert_embed(0, {"image": "x"})
    return doc.get_update(before)


@pytest.mark.parametrize(
    ("hostile", "reason"),
    [
        (_pending, "depends on changes"),
        (_cut_emoji, "cuts a character"),
        (_embed, "characters only"),
    ],
)
async def test_updates_a_reload_would_read_otherwise_are_refused_with_1002(
    docs_node: Node, hostile: Callable[[pycrdt.Doc[Any]], bytes], reason: str
) -> None:
    """Updates Yrs takes but cannot keep consistent (pending parts, a cut emoji) or the
    notes may not hold (an embed): the sender is closed, the document stays whole."""
    room = await classroom(docs_node)
    attacker = await RawClient.open(docs_node, room.doc(), await room.token(room.students[0]))
    bystander = await RawClient.open(docs_node, room.doc(), await room.token(room.students[1]))
    await attacker.insert("😀 hello ")
    await bystander.until(lambda c: "hello" in c.text)
    await attacker.send(encode_sync_update(hostile(attacker.doc)))
    code, why = await attacker.closed()
    assert (code, reason in why) == (1002, True), why
    await bystander.insert("still here")
    late = await RawClient.open(docs_node, room.doc(), await room.token(room.host))
    await late.until(lambda c: "still here" in c.text and "😀 hello" in c.text)
    assert late.text == bystander.text
    for client in (bystander, late):
        await client.close()


async def test_a_too_deep_value_is_refused_with_1002(docs_node: Node) -> None:
    room = await classroom(docs_node)
    writer = await RawClient.open(docs_node, room.doc("whiteboard"), await room.token(room.host))
    deep: dict[str, Any] = {}
    cursor = deep
    for _ in range(200):
        cursor["n"] = {}
        cursor = cursor["n"]
    await writer.change(lambda doc: doc.get("shapes", type=pycrdt.Map).update({"s": deep}))
    code, reason = await writer.closed()
    assert code == 1002
    assert "nest" in reason


async def test_nested_shared_types_stop_at_the_documented_depth(docs_node: Node) -> None:
    """One level per update, as an attacker building a tower of Y.Maps would."""
    room = await classroom(docs_node)
    writer = await RawClient.open(docs_node, room.doc("whiteboard"), await room.token(room.host))
    holder: list[Any] = []

    def first(doc: pycrdt.Doc[Any]) -> None:
        shape: pycrdt.Map[Any] = pycrdt.Map()
        doc.get("shapes", type=pycrdt.Map)["tower"] = shape
        holder.append(shape)

    def deeper(_: pycrdt.Doc[Any]) -> None:
        child: pycrdt.Map[Any] = pycrdt.Map()
        holder[-1]["n"] = child
        holder.append(child)

    await writer.change(first)
    with contextlib.suppress(ConnectionClosed):
        for _ in range(100):
            await writer.change(deeper)
            await asyncio.sleep(0.01)
    code, reason = await writer.closed()
    assert code == 1002
    assert "nest" in reason
    response = await rest(
        docs_node, room.host, "GET", f"/api/v1/documents/rooms/{room.room_id}/whiteboard"
    )
    assert response.status_code == 200
    (tower,) = [s for s in response.json()["content"]["shapes"] if s["id"] == "tower"]
    depth = 1
    while isinstance(tower.get("n"), dict):
        tower, depth = tower["n"], depth + 1
    assert depth == 32  # the deepest level the cap lets through, and nothing past it


async def count(room: Classroom, model: Any) -> int:
    engine = engine_of(room.node)
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(
                select(func.count()).select_from(model).where(model.doc == room.doc())
            )
    finally:
        await engine.dispose()
    return int(found or 0)


async def test_a_stored_poison_is_quarantined_after_an_idle_unload(docs_node: Node) -> None:
    room = await classroom(docs_node)
    poison = await poison_the_log(room)
    await asyncio.sleep(1.0)  # past the idle unload (0.5 s): the next client loads from disk
    reader = await RawClient.open(docs_node, room.doc(), await room.token(room.students[0]))
    await reader.until(lambda c: "good content" in c.text)
    await reader.insert("and it still takes edits")
    await reader.close()
    await check_quarantined(room, poison)


async def check_quarantined(room: Classroom, poison: bytes) -> None:
    """The poison is listed (and readable) by the admin API, counted on /metrics, and the
    REST read of the document answers with its good content."""
    node = room.node
    admin = {"authorization": f"Bearer {node.admin_token()}"}
    async with httpx.AsyncClient(base_url=node.server.url, headers=admin) as http:
        listed = (await http.get(QUARANTINE, params={"doc": room.doc()})).json()["items"]
        assert len(listed) == 1
        entry = (await http.get(f"{QUARANTINE}/{listed[0]['id']}")).json()
        assert base64.b64decode(entry["data_base64"]) == poison
        assert entry["source"] == "log"
        metrics = (await http.get("/metrics")).text
        assert 'liveclass_documents{kind="quarantined_total"} 1.0' in metrics
        read = await rest(node, room.host, "GET", f"/api/v1/documents/rooms/{room.room_id}/notes")
        assert read.status_code == 200
        assert "good content" in read.json()["content"]["text"]
        student = {"authorization": f"Bearer {room.students[0].token}"}
        denied = await http.get(QUARANTINE, headers=student)
        assert denied.status_code == 403
        assert denied.headers["content-type"].startswith("application/problem+json")
        gone = await http.delete(f"{QUARANTINE}/{entry['id']}")
        assert gone.status_code == 204
        assert (await http.get(f"{QUARANTINE}/{entry['id']}")).status_code == 404
        bad_cursor = await http.get(QUARANTINE, params={"cursor": "not-ours"})
        assert bad_cursor.status_code == 422


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_stored_poison_is_quarantined_after_sigkill(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = database_url(backend, request)
    env = {**DOC_ENV, "LIVECLASS_SECRET_KEY": "t" * 48, "LIVECLASS_YJS_IDLE_UNLOAD_SECONDS": "600"}
    if url:
        env["LIVECLASS_DATABASE_URL"] = url
    node = Node(LiveServer(data_dir=tmp_path / "data", env=env).start(), backend, url)
    room = await classroom(node)
    try:
        poison = await poison_the_log(room)
        node.server.kill()
        room.node = Node(LiveServer(node.server.data_dir, node.server.env).start(), backend, url)
        room.node._admin_token = node._admin_token
        reader = await RawClient.open(room.node, room.doc(), await room.token(room.host))
        await reader.until(lambda c: "good content" in c.text)
        await reader.close()
        await check_quarantined(room, poison)
    finally:
        room.node.server.stop()
