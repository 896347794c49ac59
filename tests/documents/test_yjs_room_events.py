"""Room events reach open Yjs connections at once: a demotion makes a writer read-only, a
promotion gives writing back, a ban closes 4030, the end of the class closes 4010."""

from __future__ import annotations

import pytest

from kits.nodes import Node
from kits.rooms import RoomClient, of, rest
from kits.yjs import RawClient, classroom
from realtime.yjs.messages import Auth, SyncStep1

pytestmark = pytest.mark.postgres


def denials(client: RawClient) -> int:
    return sum(isinstance(m, Auth) for m in client.messages)


def steps1(client: RawClient) -> int:
    return sum(isinstance(m, SyncStep1) for m in client.messages)


async def test_roles_bans_and_the_end_of_class_apply_live(docs_node: Node) -> None:
    room = await classroom(docs_node)
    student = room.students[0]
    host_channel = await RoomClient.enter(docs_node, room.host, room.room_id)
    student_channel = await RoomClient.enter(docs_node, student, room.room_id)
    token = await room.token(student)
    writer = await RawClient.open(docs_node, room.doc(), token)
    host_token = await room.token(room.host)
    witness = await RawClient.open(docs_node, room.doc(), host_token)

    demote = {"type": "participant.set_role", "user_id": student.user_id, "role": "observer"}
    await host_channel.ack(demote)
    # The room's event reached this node's subscribers (the document's watch is one of them).
    await student_channel.next(of("participant.role", user_id=student.user_id, role="observer"))
    await writer.insert("as an observer. ")
    await writer.until(lambda c: denials(c) == 1)
    # Writing comes back with the server asking for the client's edits (a sync step 1): the
    # room event reaches the document's watch through the hub, possibly after the ack.
    asked = steps1(writer)
    await host_channel.ack({**demote, "role": "participant"})
    await writer.until(lambda c: steps1(c) > asked)
    await writer.insert("as a participant again. ")
    await witness.until(lambda c: "as a participant again." in c.text)

    await host_channel.ack({"type": "participant.remove", "user_id": student.user_id, "ban": True})
    assert await writer.closed() == (4030, "banned from this room")
    refused = await RawClient.open(docs_node, room.doc(), token, sync=False)
    assert await refused.closed() == (4030, "banned from this room")

    ended = await rest(docs_node, room.host, "POST", f"/api/v1/rooms/{room.room_id}/end")
    assert ended.status_code == 204
    assert (await witness.closed())[0] == 4010
    late = await RawClient.open(docs_node, room.doc(), host_token, sync=False)  # still valid
    assert (await late.closed())[0] == 4010
    for channel in (host_channel, student_channel):
        await channel.closed()
