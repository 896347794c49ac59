"""y-websocket frames: one y-protocols message per binary WebSocket frame.

Layouts (every integer a lib0 varUint):
  sync step 1   0 0 varBytes(stateVector)      awareness        1 varBytes(awarenessUpdate)
  sync step 2   0 1 varBytes(update)           auth denied      2 0 varString(reason)
  sync update   0 2 varBytes(update)           query awareness  3
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final, TypeAlias

from realtime.yjs.errors import MessageTooLarge, UnknownMessageType
from realtime.yjs.lib0 import Reader, encode_var_bytes, encode_var_string, encode_var_uint

DEFAULT_MAX_MESSAGE_SIZE: Final = 8 * 1024 * 1024
"""Default cap on one inbound frame; a whole document can arrive in a client's step 2."""


class MessageType(IntEnum):
    """First varUint of every frame."""

    SYNC = 0
    AWARENESS = 1
    AUTH = 2
    QUERY_AWARENESS = 3


class SyncMessageType(IntEnum):
    """Second varUint of a sync frame."""

    STEP1 = 0
    STEP2 = 1
    UPDATE = 2


class AuthMessageType(IntEnum):
    """Second varUint of an auth frame; y-protocols defines only permission denied."""

    PERMISSION_DENIED = 0


@dataclass(frozen=True, slots=True)
class SyncStep1:
    """Sync step 1: the sender's state vector, asking for everything it lacks."""

    state_vector: bytes


@dataclass(frozen=True, slots=True)
class SyncStep2:
    """Sync step 2: the update answering a step 1; a stock client is synced once it gets one."""

    update: bytes


@dataclass(frozen=True, slots=True)
class SyncUpdate:
    """An incremental document update (Yjs v1 update encoding)."""

    update: bytes


@dataclass(frozen=True, slots=True)
class Awareness:
    """An encoded awareness update, kept as bytes; `realtime.yjs.awareness` decodes it."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class QueryAwareness:
    """A request for every known awareness state."""


@dataclass(frozen=True, slots=True)
class Auth:
    """Permission denied; a stock client only logs `reason` and keeps reconnecting."""

    reason: str


Message: TypeAlias = SyncStep1 | SyncStep2 | SyncUpdate | Awareness | QueryAwareness | Auth


def encode_sync_step1(state_vector: bytes) -> bytes:
    """Frame a sync step 1 carrying `state_vector`."""
    return bytes((MessageType.SYNC, SyncMessageType.STEP1)) + encode_var_bytes(state_vector)


def encode_sync_step2(update: bytes) -> bytes:
    """Frame a sync step 2 carrying `update`."""
    return bytes((MessageType.SYNC, SyncMessageType.STEP2)) + encode_var_bytes(update)


def encode_sync_update(update: bytes) -> bytes:
    """Frame an incremental sync update."""
    return bytes((MessageType.SYNC, SyncMessageType.UPDATE)) + encode_var_bytes(update)


def encode_awareness(payload: bytes) -> bytes:
    """Frame an encoded awareness update."""
    return bytes((MessageType.AWARENESS,)) + encode_var_bytes(payload)


def encode_query_awareness() -> bytes:
    """Frame a query for all awareness states."""
    return bytes((MessageType.QUERY_AWARENESS,))


def encode_auth_denied(reason: str) -> bytes:
    """Frame a permission-denied auth message."""
    head = bytes((MessageType.AUTH, AuthMessageType.PERMISSION_DENIED))
    return head + encode_var_string(reason)


def encode_message(message: Message) -> bytes:
    """Frame any message; the inverse of `decode_message`."""
    match message:
        case SyncStep1(state_vector=state_vector):
            return encode_sync_step1(state_vector)
        case SyncStep2(update=update):
            return encode_sync_step2(update)
        case SyncUpdate(update=update):
            return encode_sync_update(update)
        case Awareness(payload=payload):
            return encode_awareness(payload)
        case QueryAwareness():
            return encode_query_awareness()
        case Auth(reason=reason):
            return encode_auth_denied(reason)


def decode_state_vector(data: bytes) -> dict[int, int]:
    """Decode a Yjs state vector (varUint count, then clientID/clock pairs) into a dict."""
    reader = Reader(data)
    count = reader.read_var_uint()
    state: dict[int, int] = {}
    for _ in range(count):
        client_id = reader.read_var_uint()
        state[client_id] = reader.read_var_uint()
    reader.expect_end()
    return state


def encode_state_vector(state: dict[int, int]) -> bytes:
    """Encode a state vector (`decode_state_vector`'s inverse)."""
    parts = [encode_var_uint(len(state))]
    for client_id, clock in state.items():
        parts += (encode_var_uint(client_id), encode_var_uint(clock))
    return b"".join(parts)


def decode_message(frame: bytes, *, max_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> Message:
    """Decode one frame, raising a `YjsError` subclass if it is too large, unknown or malformed.

    The frame must hold exactly one message: trailing bytes are `MalformedMessage`.
    """
    if len(frame) > max_size:
        raise MessageTooLarge(len(frame), limit=max_size)
    reader = Reader(frame)
    message_type = reader.read_var_uint()
    message: Message
    if message_type == MessageType.SYNC:
        message = _decode_sync(reader)
    elif message_type == MessageType.AWARENESS:
        message = Awareness(reader.read_var_bytes())
    elif message_type == MessageType.AUTH:
        message = _decode_auth(reader)
    elif message_type == MessageType.QUERY_AWARENESS:
        message = QueryAwareness()
    else:
        raise UnknownMessageType(message_type)
    reader.expect_end()
    return message


def _decode_sync(reader: Reader) -> SyncStep1 | SyncStep2 | SyncUpdate:
    sync_type = reader.read_var_uint()
    if sync_type == SyncMessageType.STEP1:
        state_vector = reader.read_var_bytes()
        decode_state_vector(state_vector)
        return SyncStep1(state_vector)
    if sync_type == SyncMessageType.STEP2:
        return SyncStep2(reader.read_var_bytes())
    if sync_type == SyncMessageType.UPDATE:
        return SyncUpdate(reader.read_var_bytes())
    raise UnknownMessageType(sync_type, kind="sync message")


def _decode_auth(reader: Reader) -> Auth:
    auth_type = reader.read_var_uint()
    if auth_type != AuthMessageType.PERMISSION_DENIED:
        raise UnknownMessageType(auth_type, kind="auth message")
    return Auth(reader.read_var_string())
