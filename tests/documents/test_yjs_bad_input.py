"""Bad input on the Yjs channel, from a raw client: each offender gets a clear close code,
the document stays intact, and everyone else carries on."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from kits import yjs as yjskit
from kits.nodes import Node
from kits.yjs import Classroom, RawClient, classroom
from realtime.yjs.awareness import AwarenessEntry, encode_awareness_update
from realtime.yjs.messages import Auth, encode_awareness, encode_sync_step1, encode_sync_update

pytestmark = pytest.mark.postgres

UPDATE_CAP = int(yjskit.DOC_ENV["LIVECLASS_YJS_MAX_UPDATE_BYTES"])
AWARENESS_CAP = int(yjskit.DOC_ENV["LIVECLASS_YJS_MAX_AWARENESS_BYTES"])


@pytest.fixture(scope="module")
async def shared(docs_node: Node) -> Classroom:
    """One classroom for the tests that leave its documents usable."""
    return await classroom(docs_node)


async def witnessed(room: Classroom) -> RawClient:
    """A well-behaved client holding some content, to watch that nothing breaks for it."""
    client = await RawClient.open(room.node, room.doc(), await room.token(room.students[0]))
    await client.insert("intact. ")
    return client


async def still_fine(room: Classroom, witness: RawClient) -> None:
    """The witness is connected and can still edit; a newcomer syncs the same content."""
    await witness.insert("still editing. ")
    newcomer = await RawClient.open(room.node, room.doc(), await room.token(room.host))
    await newcomer.until(lambda c: "still editing." in c.text)
    assert newcomer.text == witness.text
    assert witness.close_code is None
    await newcomer.close()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"\x00\x09\x00", 1002),  # unknown sync message type
        (b"\x07", 1002),  # unknown message type
        (b"\x00\x02\x05ab", 1002),  # truncated update
        (b"\x00\x00\x01\x00\xff", 1002),  # trailing bytes
        (encode_sync_update(b"\xff\xfe\xfd"), 1002),  # an update Yjs cannot decode
        (encode_sync_step1(b"\x05\x01"), 1002),  # a truncated state vector
        (encode_awareness(b"\x01\x01\x01\x03nul"), 1002),  # awareness JSON cut short
        (encode_awareness(b"\x01\x01\x01\x03NaN"), 1002),  # not JSON for a browser
        (b"\x00\x02" + b"\xff" * 9, 1002),  # a varUint past 2**53
    ],
)
async def test_malformed_frames_close_1002_and_harm_no_one(
    docs_node: Node, shared: Classroom, frame: bytes, code: int
) -> None:
    room = shared
    witness = await witnessed(room)
    offender = await RawClient.open(docs_node, room.doc(), await room.token(room.students[1]))
    await offender.send(frame)
    assert (await offender.closed())[0] == code
    await still_fine(room, witness)


async def test_text_frames_close_1003(docs_node: Node, shared: Classroom) -> None:
    room = shared
    witness = await witnessed(room)
    offender = await RawClient.open(docs_node, room.doc(), await room.token(room.students[1]))
    await offender.send('{"type": "sync"}')
    assert (await offender.closed())[0] == 1003
    await still_fine(room, witness)


async def test_oversize_update_and_awareness_close_1009(docs_node: Node) -> None:
    room = await classroom(docs_node)
    witness = await witnessed(room)
    big = await RawClient.open(docs_node, room.doc(), await room.token(room.students[1]))
    await big.insert("x" * (UPDATE_CAP + 10))
    code, reason = await big.closed()
    assert code == 1009
    assert "limit" in reason
    chatty = await RawClient.open(docs_node, room.doc(), await room.token(room.students[1]))
    state = '{"name": "' + "y" * AWARENESS_CAP + '"}'
    await chatty.send(encode_awareness(encode_awareness_update([AwarenessEntry(7, 1, state)])))
    assert (await chatty.closed())[0] == 1009
    await still_fine(room, witness)
    assert "x" * 100 not in witness.text


async def test_a_document_past_its_size_cap_refuses_more(docs_node: Node) -> None:
    room = await classroom(docs_node)
    witness = await witnessed(room)
    writer = await RawClient.open(docs_node, room.doc(), await room.token(room.students[1]))
    chunk = "z" * (UPDATE_CAP - 1024)
    cap = int(yjskit.DOC_ENV["LIVECLASS_YJS_MAX_DOCUMENT_BYTES"])
    for _ in range(cap // len(chunk) + 2):
        await writer.insert(chunk)
        arrived = asyncio.create_task(witness.until(lambda c: c.text == writer.text))
        closed = asyncio.create_task(writer.closed())
        await asyncio.wait([arrived, closed], return_when=asyncio.FIRST_COMPLETED)
        arrived.cancel()
        closed.cancel()
        if writer.close_code is not None:
            break
    assert writer.close_reason == "the document is limited to 262144 bytes"
    assert writer.close_code == 1009
    await still_fine(room, witness)


async def test_read_only_writes_are_refused_with_an_auth_message(docs_node: Node) -> None:
    room = await classroom(docs_node)
    witness = await witnessed(room)
    observer = await RawClient.open(docs_node, room.doc(), await room.token(room.observer))
    await observer.until(lambda c: "intact." in c.text)
    await observer.insert("nope. ")
    await observer.until(lambda c: any(isinstance(m, Auth) for m in c.messages))
    denial = next(m for m in observer.messages if isinstance(m, Auth))
    assert denial.reason.startswith("read-only")
    await still_fine(room, witness)
    await observer.until(lambda c: "still editing." in c.text)  # it still follows along
    assert "nope." not in witness.text
    assert observer.close_code is None
    await observer.close()


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("garbage", 4001),
        ("none", 4001),
        ("other room", 4003),
        ("not a room document", 4003),
        ("a lab's document", 4001),
        ("unknown kind", 4003),
    ],
)
async def test_tokens_and_names_are_checked(
    docs_node: Node, shared: Classroom, case: str, code: int
) -> None:
    room = shared
    other = await classroom(docs_node, students=1)
    token = await room.token(room.students[0])
    name, used = {
        "garbage": (room.doc(), "not.a.jwt"),
        "none": (room.doc(), ""),
        "other room": (other.doc(), token),
        "not a room document": ("elsewhere/1/notes", token),
        # Lab workspaces take lab editor tokens: a room's join token is not one.
        "a lab's document": (f"labs/{uuid.uuid4()}/workspaces/{uuid.uuid4()}", token),
        "unknown kind": (f"rooms/{room.room_id}/secrets", token),
    }[case]
    client = await RawClient.open(docs_node, name, used, sync=False)
    assert (await client.closed())[0] == code


async def test_a_locked_document_refuses_then_accepts_on_the_same_socket(docs_node: Node) -> None:
    room = await classroom(docs_node)
    student = await RawClient.open(docs_node, room.doc(), await room.token(room.students[0]))
    await room.patch(notes_locked=True)
    await student.insert("locked out. ")
    await student.until(lambda c: any(isinstance(m, Auth) for m in c.messages))
    await room.patch(notes_locked=False)
    # Unlocking asks the client for its state (a sync step 1), and it answers with it.
    host = await RawClient.open(docs_node, room.doc(), await room.token(room.host))
    await host.until(lambda c: "locked out." in c.text)
    assert student.close_code is None
    await student.close()
    await host.close()
