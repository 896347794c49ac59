"""The Yjs channel follows the room's membership, not the join token: an observer holding a
participant's old token is read-only, and revoked sessions or a removal from the course
close open document connections (4001 ``signed out``, 4003 ``removed from the course``)."""

from __future__ import annotations

import pytest

from kits.nodes import Node
from kits.rooms import RoomClient, invite, rest
from kits.yjs import RawClient, classroom
from realtime.yjs.messages import Auth
from realtime.yjs.sync import READ_ONLY_REASON

pytestmark = pytest.mark.postgres


def denials(client: RawClient) -> list[Auth]:
    return [m for m in client.messages if isinstance(m, Auth)]


async def test_an_observer_with_an_old_participant_token_cannot_write(docs_node: Node) -> None:
    room = await classroom(docs_node)  # an open room: students join as participants
    student = room.students[0]
    old = await room.token(student)  # a participant's: notes "write"
    host_channel = await RoomClient.enter(docs_node, room.host, room.room_id)
    student_channel = await RoomClient.open(docs_node, room.room_id, old)
    demote = {"type": "participant.set_role", "user_id": student.user_id, "role": "observer"}
    await host_channel.ack(demote)
    await student_channel.close()
    # No document connection was open: the node learns the role from the room's membership.
    writer = await RawClient.open(docs_node, room.doc(), old)
    await writer.insert("an observer's words. ")
    await writer.until(lambda c: len(denials(c)) == 1)
    assert denials(writer)[0].reason == READ_ONLY_REASON
    witness = await RawClient.open(docs_node, room.doc(), await room.token(room.host))
    await witness.insert("the host's words. ")
    await writer.until(lambda c: "the host's words." in c.text)
    assert "an observer's words." not in witness.text
    assert writer.close_code is None  # read-only, not closed
    # Promoted over REST, the same old token's connection writes again, at once.
    await invite(docs_node, room.host, room.room_id, student, "participant")
    await witness.until(lambda c: "an observer's words." in c.text)  # kept locally, merged
    for client in (writer, witness):
        await client.close()
    await host_channel.close()


async def test_revocations_close_document_connections(docs_node: Node) -> None:
    room = await classroom(docs_node)
    student, other = room.students
    writer = await RawClient.open(docs_node, room.doc(), await room.token(student))
    reader = await RawClient.open(docs_node, room.doc("whiteboard"), await room.token(student))
    witness = await RawClient.open(docs_node, room.doc(), await room.token(other))
    done = await rest(docs_node, student, "POST", "/api/v1/auth/logout", json={"everywhere": True})
    assert done.status_code == 204
    assert await writer.closed() == (4001, "signed out")
    assert await reader.closed() == (4001, "signed out")
    await witness.insert("carrying on. ")
    await witness.until(lambda c: "carrying on." in c.text)
    assert witness.close_code is None
    await witness.close()
