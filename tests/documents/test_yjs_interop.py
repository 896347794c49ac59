"""Stock `y-websocket` clients (Node, unmodified WebsocketProvider) against a real node:
convergence, offline edits, awareness, read-only access, live locks and token refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kits.nodes import Node
from kits.rooms import rest
from kits.yjs import Classroom, NodeClients, classroom
from persistence.models.base import utcnow
from rooms.roles import RoomRole
from rooms.tokens import JoinClaims, mint

pytestmark = pytest.mark.postgres
EDITS = 60


async def server_text(room: Classroom, kind: str = "notes") -> dict[str, object]:
    response = await rest(
        room.node, room.host, "GET", f"/api/v1/documents/rooms/{room.room_id}/{kind}"
    )
    assert response.status_code == 200, response.text
    content: dict[str, object] = response.json()["content"]
    return content


async def test_four_clients_converge_on_concurrent_edits(
    docs_node: Node, clients: NodeClients
) -> None:
    room = await classroom(docs_node, students=3)
    names = [f"c{i}" for i in range(4)]
    for name, person in zip(names, [room.host, *room.students], strict=True):
        clients.open(name, room, await room.token(person), awareness={"user": name})
    for name in names:
        clients.wait(name, synced=True)
    # Every client edits at once, at the same spot, in many small updates.
    clients.call(
        "many",
        ops=[{"op": "edit", "client": n, "prefix": f"{n}-", "count": EDITS, "at": 0} for n in names]
        + [
            {"op": "edit", "client": n, "shape": {"id": n, "fields": {"type": "rect", "x": i}}}
            for i, n in enumerate(names)
        ],
    )
    expected = [f"{n}-{i};" for n in names for i in range(EDITS)]
    states = [clients.wait(n, textIncludes=expected, shapes=names) for n in names]
    assert len({s["text"] for s in states}) == 1
    assert all(s["shapes"] == states[0]["shapes"] for s in states)
    assert (await server_text(room))["text"] == states[0]["text"]


async def test_offline_edits_merge_after_reconnect(docs_node: Node, clients: NodeClients) -> None:
    room = await classroom(docs_node)
    first, second = room.students
    clients.open("a", room, await room.token(first))
    clients.open("b", room, await room.token(second))
    clients.wait("a", synced=True)
    clients.call("edit", client="a", insert="shared start. ")
    clients.wait("b", textIncludes=["shared start."])

    clients.call("disconnect", client="b")
    clients.wait("b", disconnected=True)
    clients.call("edit", client="b", insert="written offline by b. ", at=0)
    clients.call("edit", client="a", insert="written online by a. ")
    clients.wait("a", textIncludes=["written online by a."])
    assert "written offline" not in clients.state("a")["text"]

    clients.call("connect", client="b")
    parts = ["shared start.", "written offline by b.", "written online by a."]
    a_state = clients.wait("a", textIncludes=parts)
    b_state = clients.wait("b", textIncludes=parts, syncs=2)
    assert a_state["text"] == b_state["text"]
    assert (await server_text(room))["text"] == a_state["text"]


async def test_awareness_appears_and_disappears_on_disconnect(
    docs_node: Node, clients: NodeClients
) -> None:
    room = await classroom(docs_node)
    first, second = room.students
    clients.open("a", room, await room.token(first), awareness={"user": "ada"})
    clients.open("b", room, await room.token(second), awareness={"user": "bob"})
    clients.wait("a", peer="bob")
    clients.wait("b", peer="ada")
    # A late joiner learns everyone present from the server (it never asks).
    clients.open("c", room, await room.token(room.host), awareness={"user": "cy"})
    clients.wait("c", peer="ada")
    clients.wait("c", peer="bob")

    clients.call("destroy", client="b")  # a clean goodbye
    clients.wait("a", noPeer="bob")
    clients.wait("c", noPeer="bob")

    # A client that vanishes without a word (process killed) disappears too.
    other = NodeClients()
    try:
        other.open("d", room, await room.token(second), awareness={"user": "dee"})
        clients.wait("a", peer="dee")
    finally:
        other.kill()
    clients.wait("a", noPeer="dee")
    clients.wait("c", noPeer="dee")
    assert clients.state("a")["peers"] and clients.state("a")["connected"]


async def test_read_only_connections_sync_but_cannot_write(
    docs_node: Node, clients: NodeClients
) -> None:
    room = await classroom(docs_node)
    clients.open("host", room, await room.token(room.host), awareness={"user": "host"})
    clients.call("edit", client="host", insert="from the host. ")
    clients.open("obs", room, await room.token(room.observer), awareness={"user": "obs"})
    clients.wait("obs", synced=True, textIncludes=["from the host."], peer="host")
    clients.wait("host", peer="obs")  # observers still show their cursor

    clients.call("edit", client="obs", insert="observer scribble. ")
    denied = clients.wait("obs", denied=1)
    assert denied["denied"][0].startswith("read-only")
    clients.call("edit", client="host", insert="marker. ")
    clients.wait("obs", textIncludes=["marker."])
    host = clients.wait("host", textIncludes=["marker."])
    assert "observer scribble" not in host["text"]
    assert "observer scribble" not in str((await server_text(room))["text"])
    assert clients.state("obs")["connected"]  # refused, not disconnected


async def test_host_locks_and_unlocks_notes_live(docs_node: Node, clients: NodeClients) -> None:
    room = await classroom(docs_node)
    student = room.students[0]
    clients.open("host", room, await room.token(room.host))
    clients.open("s", room, await room.token(student))
    clients.wait("s", synced=True)
    clients.call("edit", client="s", insert="before the lock. ")
    clients.wait("host", textIncludes=["before the lock."])

    await room.patch(notes_locked=True)  # returns once the room event is out
    clients.call("edit", client="s", insert="while locked. ")
    clients.wait("s", denied=1)
    clients.call("edit", client="host", insert="hosts still write. ")
    clients.wait("s", textIncludes=["hosts still write."])
    assert "while locked" not in clients.wait("host", textIncludes=["hosts still write."])["text"]

    # Unlocking takes effect on the open connection: the server asks for the client's
    # state again, so what it kept locally is merged, and new edits flow as usual.
    await room.patch(notes_locked=False)
    clients.call("edit", client="s", insert="after the unlock. ")
    host = clients.wait("host", textIncludes=["after the unlock.", "while locked."])
    assert clients.state("s")["text"] == host["text"]
    assert clients.state("s")["closes"] == []


async def test_whiteboard_lock_leaves_notes_writable(docs_node: Node, clients: NodeClients) -> None:
    room = await classroom(docs_node, whiteboard_locked=True)
    student = room.students[0]
    token = await room.token(student)
    clients.open("board", room, token, kind="whiteboard")
    clients.open("notes", room, token, kind="notes")
    clients.open("host", room, await room.token(room.host), kind="notes")
    clients.wait("board", synced=True)
    clients.call("edit", client="board", shape={"id": "s1", "fields": {"type": "rect"}})
    clients.wait("board", denied=1)
    clients.call("edit", client="notes", insert="notes are open. ")
    clients.wait("host", textIncludes=["notes are open."])
    assert clients.state("notes")["denied"] == []


async def test_bad_tokens_get_a_close_code_the_client_can_stop_on(
    docs_node: Node, clients: NodeClients
) -> None:
    room = await classroom(docs_node)
    other = await classroom(docs_node)
    student = room.students[0]
    claims = JoinClaims(
        room_id=room.room_id,
        user_id=student.user_id,
        name="x",
        role=RoomRole.PARTICIPANT,
        grants=frozenset(),
        documents={room.doc("notes"): "write"},
    )
    forged = mint(claims, secret="f" * 48, now=utcnow(), ttl=timedelta(minutes=5))
    expired = mint(claims, secret="t" * 48, now=utcnow() - timedelta(hours=2), ttl=timedelta(0))
    cases = {
        "expired": (room, expired, 4001),
        "forged": (room, forged, 4001),
        "missing": (room, "", 4001),
        "other-room": (other, await room.token(student), 4003),
    }
    for name, (target, token, code) in cases.items():
        clients.open(name, target, token)
        state = clients.wait(name, closed=code)
        assert {c["code"] for c in state["closes"] if c} == {code}, name
        assert not state["synced"]
