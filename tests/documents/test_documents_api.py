"""Documents REST: content as JSON, named versions, restore (clients follow), delete (their
sockets close 4004), who may do what, and the audit trail."""

from __future__ import annotations

from typing import Any

import httpx
import pycrdt
import pytest

from kits.nodes import Node
from kits.rooms import create_room, register, rest
from kits.yjs import Classroom, RawClient, classroom
from realtime.yjs.messages import decode_state_vector

pytestmark = pytest.mark.postgres


def path(room: Classroom, kind: str = "notes", tail: str = "") -> str:
    return f"/api/v1/documents/rooms/{room.room_id}/{kind}{tail}"


async def connect(room: Classroom, kind: str = "notes", *, as_host: bool = False) -> RawClient:
    person = room.host if as_host else room.students[0]
    return await RawClient.open(room.node, room.doc(kind), await room.token(person))


async def written(watcher: RawClient, writer: RawClient) -> None:
    """Wait until `watcher` holds everything `writer` sent: it has been stored by then."""
    await watcher.until(lambda c: _covers(c, writer))


def _covers(watcher: RawClient, writer: RawClient) -> bool:
    have = decode_state_vector(watcher.doc.get_state())
    wanted = decode_state_vector(writer.doc.get_state())
    return all(have.get(client, 0) >= clock for client, clock in wanted.items())


async def audit_actions(node: Node, target: str) -> list[str]:
    with node.client(node.admin_token()) as client:
        response = client.get(
            "/api/v1/audit-events", params={"action_prefix": "document.", "target_id": target}
        )
    assert response.status_code == 200, response.text
    return [event["action"] for event in response.json()["items"]]


async def test_notes_and_whiteboard_read_as_json(docs_node: Node) -> None:
    room = await classroom(docs_node)
    notes, watcher = await connect(room, as_host=True), await connect(room)

    def write_notes(doc: pycrdt.Doc[Any]) -> None:
        doc.get("notes", type=pycrdt.Text).insert(0, "# Week 1\n\nLimits *and* continuity.")
        rich = doc.get("prosemirror", type=pycrdt.XmlFragment)
        paragraph = rich.children.append(pycrdt.XmlElement("paragraph"))
        paragraph.children.append(pycrdt.XmlText("Hello"))

    await notes.change(write_notes)
    await written(watcher, notes)
    response = await rest(docs_node, room.students[0], "GET", path(room))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == room.doc()
    assert body["content"] == {
        "text": "# Week 1\n\nLimits *and* continuity.",
        "rich": "<paragraph>Hello</paragraph>",
    }

    board, board_watcher = (
        await connect(room, "whiteboard", as_host=True),
        await connect(room, "whiteboard"),
    )

    def draw(doc: pycrdt.Doc[Any]) -> None:
        shapes = doc.get("shapes", type=pycrdt.Map)
        shapes["b"] = pycrdt.Map({"type": "rect", "x": 10, "y": 20, "w": 30, "h": 40, "z": 2})
        shapes["a"] = {"type": "line", "points": [[0, 0], [5, 5]], "z": 1}
        doc.get("meta", type=pycrdt.Map)["background"] = "#ffffff"

    await board.change(draw)
    await written(board_watcher, board)
    content = (await rest(docs_node, room.host, "GET", path(room, "whiteboard"))).json()["content"]
    assert [shape["id"] for shape in content["shapes"]] == ["a", "b"]  # painting order
    assert content["shapes"][1] == {
        "id": "b",
        "type": "rect",
        "x": 10,
        "y": 20,
        "w": 30,
        "h": 40,
        "z": 2,
    }
    assert content["meta"] == {"background": "#ffffff"}
    for client in (notes, watcher, board, board_watcher):
        await client.close()


async def test_versions_are_saved_listed_read_and_restored_live(docs_node: Node) -> None:
    room = await classroom(docs_node)
    host, student = await connect(room, as_host=True), await connect(room)
    await host.insert("version one. ")
    await written(student, host)
    saved = await rest(
        docs_node, room.host, "POST", path(room, tail="/versions"), json={"name": "v1"}
    )
    assert saved.status_code == 201, saved.text
    version = saved.json()
    assert version["name"] == "v1"
    assert version["created_by"] == room.host.user_id

    await student.insert("later edits. ")
    await written(host, student)
    listed = await rest(docs_node, room.students[0], "GET", path(room, tail="/versions"))
    assert [v["id"] for v in listed.json()] == [version["id"]]
    read = await rest(
        docs_node, room.students[0], "GET", path(room, tail=f"/versions/{version['id']}")
    )
    assert read.json()["content"]["text"] == "version one. "

    restored = await rest(
        docs_node, room.host, "POST", path(room, tail=f"/versions/{version['id']}/restore")
    )
    assert restored.status_code == 200, restored.text
    assert restored.json()["content"]["text"] == "version one. "
    # Connected clients follow the restore as an ordinary update.
    await student.until(lambda c: c.text == "version one. ")
    await host.until(lambda c: c.text == "version one. ")
    await student.insert("and after. ")
    await written(host, student)
    assert host.text == "version one. and after. "
    assert await audit_actions(docs_node, room.doc()) == [
        "document.version.restore",
        "document.version.create",
    ]
    await host.close()
    await student.close()


async def test_only_hosts_change_documents_and_members_read_them(docs_node: Node) -> None:
    room = await classroom(docs_node)
    student = room.students[0]
    assert (await rest(docs_node, student, "GET", path(room))).status_code == 200
    for method, tail, body in [
        ("POST", "/versions", {"name": "mine"}),
        ("DELETE", "", None),
    ]:
        response = await rest(docs_node, student, method, path(room, tail=tail), json=body)
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
    saved = await rest(
        docs_node, room.host, "POST", path(room, tail="/versions"), json={"name": "v"}
    )
    restore = path(room, tail=f"/versions/{saved.json()['id']}/restore")
    assert (await rest(docs_node, student, "POST", restore)).status_code == 403

    closed_room = await create_room(docs_node, room.host)  # not open: invitation only
    outsider_path = f"/api/v1/documents/rooms/{closed_room}/notes"
    assert (await rest(docs_node, student, "GET", outsider_path)).status_code == 404
    assert (await rest(docs_node, None, "GET", path(room))).status_code == 401
    assert (await rest(docs_node, student, "GET", path(room, "secrets"))).status_code == 422
    missing = path(room, tail="/versions/00000000-0000-4000-8000-000000000000")
    assert (await rest(docs_node, student, "GET", missing)).status_code == 404
    other = register(docs_node, "instructor")
    too_long = {"name": "x" * 201}
    response = await rest(docs_node, other, "POST", path(room, tail="/versions"), json=too_long)
    assert response.status_code == 422


async def test_delete_erases_history_and_closes_connections_4004(docs_node: Node) -> None:
    room = await classroom(docs_node)
    host, student = await connect(room, as_host=True), await connect(room)
    await host.insert("to be deleted. ")
    await written(student, host)
    saved = await rest(
        docs_node, room.host, "POST", path(room, tail="/versions"), json={"name": "v"}
    )
    assert saved.status_code == 201

    deleted = await rest(docs_node, room.host, "DELETE", path(room))
    assert deleted.status_code == 204
    assert (await student.closed()) == (4004, "document deleted")
    assert (await host.closed())[0] == 4004
    assert (await rest(docs_node, room.host, "GET", path(room))).json()["content"]["text"] == ""
    assert (await rest(docs_node, room.host, "GET", path(room, tail="/versions"))).json() == []
    fresh = await connect(room)
    assert fresh.text == ""
    await fresh.insert("a new start. ")
    await fresh.close()
    assert "document.delete" in await audit_actions(docs_node, room.doc())


async def test_the_openapi_document_lists_the_documents_api(docs_node: Node) -> None:
    # The node builds the document on first request (~2 CPU-s with every domain's routes):
    # more than httpx's default 5 s on a loaded machine.
    async with httpx.AsyncClient(base_url=docs_node.url, timeout=120) as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/api/v1/documents/rooms/{room_id}/{kind}/versions/{version_id}/restore" in paths
