"""y-websocket frames: exact layouts, decoding errors, and agreement with pycrdt's helpers."""

from __future__ import annotations

import contextlib
from typing import Any

import pycrdt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime.errors import ProtocolError
from realtime.yjs.errors import MalformedMessage, MessageTooLarge, UnknownMessageType, YjsError
from realtime.yjs.lib0 import encode_var_uint
from realtime.yjs.messages import (
    Auth,
    Awareness,
    Message,
    MessageType,
    QueryAwareness,
    SyncMessageType,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_message,
    decode_state_vector,
    encode_auth_denied,
    encode_awareness,
    encode_message,
    encode_query_awareness,
    encode_sync_step1,
    encode_sync_step2,
    encode_sync_update,
)

EMPTY_UPDATE = bytes([0, 0])
EMPTY_STATE_VECTOR = bytes([0])


def new_doc() -> pycrdt.Doc[Any]:
    return pycrdt.Doc()


def test_message_type_numbers_match_y_protocols() -> None:
    assert [int(t) for t in MessageType] == [0, 1, 2, 3]
    assert [int(t) for t in SyncMessageType] == [0, 1, 2]


def test_empty_doc_encodings_match_yjs() -> None:
    doc = new_doc()
    assert doc.get_update() == EMPTY_UPDATE
    assert doc.get_state() == EMPTY_STATE_VECTOR
    assert encode_sync_step1(doc.get_state()) == bytes([0, 0, 1, 0])
    assert encode_sync_step2(doc.get_update()) == bytes([0, 1, 2, 0, 0])
    assert encode_sync_update(EMPTY_UPDATE) == bytes([0, 2, 2, 0, 0])


def test_other_layouts() -> None:
    assert encode_query_awareness() == bytes([3])
    assert encode_awareness(b"") == bytes([1, 0])
    assert encode_awareness(bytes([1, 7, 1, 2]) + b"{}") == bytes([1, 6, 1, 7, 1, 2]) + b"{}"
    assert encode_auth_denied("no") == bytes([2, 0, 2]) + b"no"
    assert encode_auth_denied("née") == bytes([2, 0, 4]) + "née".encode()


def test_long_update_gets_multi_byte_length() -> None:
    update = bytes(200)
    assert encode_sync_update(update) == bytes([0, 2, 0xC8, 0x01]) + update


def test_encodings_match_pycrdt_helpers() -> None:
    doc = new_doc()
    doc["text"] = text = pycrdt.Text()
    text += "hello 🎉 日本"
    assert encode_sync_step1(doc.get_state()) == pycrdt.create_sync_message(doc)
    assert encode_sync_update(doc.get_update()) == pycrdt.create_update_message(doc.get_update())
    assert encode_awareness(b"\x00") == pycrdt.create_awareness_message(b"\x00")


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (bytes([0, 0, 1, 0]), SyncStep1(EMPTY_STATE_VECTOR)),
        (bytes([0, 0, 4, 1, 0x80, 0x01, 3]), SyncStep1(bytes([1, 0x80, 0x01, 3]))),
        (bytes([0, 1, 2, 0, 0]), SyncStep2(EMPTY_UPDATE)),
        (bytes([0, 2, 2, 0, 0]), SyncUpdate(EMPTY_UPDATE)),
        (bytes([0, 2, 0]), SyncUpdate(b"")),
        (bytes([1, 1, 0]), Awareness(b"\x00")),
        (bytes([3]), QueryAwareness()),
        (bytes([2, 0, 3]) + b"why", Auth("why")),
        (bytes([2, 0, 4]) + "🎉".encode(), Auth("🎉")),
    ],
)
def test_decode_known_frames(frame: bytes, message: Message) -> None:
    assert decode_message(frame) == message
    assert encode_message(message) == frame


def test_decode_real_step1_from_pycrdt() -> None:
    doc = new_doc()
    items = doc.get("map", type=pycrdt.Map)
    items["k"] = "v"
    message = decode_message(pycrdt.create_sync_message(doc))
    assert message == SyncStep1(doc.get_state())
    assert decode_state_vector(doc.get_state()) == {doc.client_id: 1}


def test_state_vector_decoding() -> None:
    assert decode_state_vector(EMPTY_STATE_VECTOR) == {}
    assert decode_state_vector(bytes([2, 1, 5, 0x80, 0x01, 0])) == {1: 5, 128: 0}
    with pytest.raises(MalformedMessage, match="truncated"):
        decode_state_vector(bytes([2, 1, 5]))
    with pytest.raises(MalformedMessage, match="trailing"):
        decode_state_vector(bytes([0, 0]))


@pytest.mark.parametrize(
    "frame",
    [
        b"",  # no type
        bytes([0]),  # sync without subtype
        bytes([0, 0]),  # step 1 without state vector
        bytes([0, 0, 3, 1, 1]),  # state vector cut short
        bytes([0, 0, 2, 1, 1]),  # state vector's clock missing
        bytes([0, 0, 1, 0x80]),  # state vector count truncated
        bytes([0, 1, 5, 0, 0]),  # update length past the end
        bytes([0, 2]),  # update without length
        bytes([1]),  # awareness without payload
        bytes([1, 2, 0]),  # awareness payload cut short
        bytes([2, 0]),  # auth without reason
        bytes([2, 0, 1, 0xFF]),  # reason not UTF-8
        bytes([0xFF] * 9),  # a varint that never ends
    ],
)
def test_truncated_or_invalid_frames_are_malformed(frame: bytes) -> None:
    with pytest.raises(MalformedMessage):
        decode_message(frame)


@pytest.mark.parametrize(
    "frame",
    [
        bytes([0, 0, 1, 0, 0]),  # step 1 followed by a stray byte
        bytes([0, 2, 2, 0, 0, 9, 9]),
        bytes([1, 1, 0, 1]),
        bytes([3, 0]),  # query awareness takes no body
        bytes([2, 0, 0, 0]),
        bytes([0, 0, 1, 0]) * 2,  # two messages in one frame
    ],
)
def test_trailing_bytes_are_malformed(frame: bytes) -> None:
    with pytest.raises(MalformedMessage, match="trailing"):
        decode_message(frame)


@pytest.mark.parametrize(
    ("frame", "kind", "number"),
    [
        (bytes([4]), "message", 4),
        (bytes([100, 1, 2]), "message", 100),
        (bytes([0x80, 0x01]), "message", 128),
        (bytes([0, 3, 0]), "sync message", 3),
        (bytes([2, 1, 0]), "auth message", 1),
    ],
)
def test_unknown_types(frame: bytes, kind: str, number: int) -> None:
    with pytest.raises(UnknownMessageType, match=f"unknown {kind} type {number}") as caught:
        decode_message(frame)
    assert caught.value.message_type == number


def test_size_limit_is_checked_before_parsing() -> None:
    frame = encode_sync_update(bytes(100))
    assert decode_message(frame, max_size=len(frame)) == SyncUpdate(bytes(100))
    with pytest.raises(MessageTooLarge) as caught:
        decode_message(frame, max_size=len(frame) - 1)
    assert (caught.value.size, caught.value.limit) == (len(frame), len(frame) - 1)
    assert caught.value.close_code == 1009
    with pytest.raises(MessageTooLarge):
        decode_message(b"\xff" * 50, max_size=10)


def test_errors_are_realtime_protocol_errors_with_close_codes() -> None:
    for error in (MalformedMessage("x"), UnknownMessageType(9), MessageTooLarge(2, limit=1)):
        assert isinstance(error, YjsError)
        assert isinstance(error, ProtocolError)
        assert not error.reconnect
    assert MalformedMessage("x").close_code == 1002
    assert UnknownMessageType(9).close_code == 1002


def test_decode_does_not_validate_update_contents() -> None:
    # Updates are opaque here; the document rejects bad ones when they are applied.
    assert decode_message(bytes([0, 2, 1, 0xFF])) == SyncUpdate(b"\xff")


state_vectors = st.dictionaries(st.integers(0, 2**32 - 1), st.integers(0, 2**40), max_size=5).map(
    lambda sv: (
        encode_var_uint(len(sv))
        + b"".join(encode_var_uint(k) + encode_var_uint(v) for k, v in sv.items())
    )
)
messages: st.SearchStrategy[Message] = st.one_of(
    st.builds(SyncStep1, state_vectors),
    st.builds(SyncStep2, st.binary(max_size=300)),
    st.builds(SyncUpdate, st.binary(max_size=300)),
    st.builds(Awareness, st.binary(max_size=300)),
    st.just(QueryAwareness()),
    st.builds(Auth, st.text(max_size=50)),
)


@given(messages)
def test_round_trip(message: Message) -> None:
    assert decode_message(encode_message(message)) == message


@given(st.binary(max_size=64))
def test_garbage_raises_only_yjs_errors(frame: bytes) -> None:
    with contextlib.suppress(YjsError):
        decode_message(frame)


@given(messages, st.data())
def test_every_strict_prefix_is_rejected(message: Message, data: st.DataObject) -> None:
    frame = encode_message(message)
    cut = data.draw(st.integers(0, len(frame) - 1))
    with pytest.raises(MalformedMessage):
        decode_message(frame[:cut])
