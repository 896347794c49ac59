"""The per-connection y-websocket state machine, free of I/O.

A `SyncSession` turns each inbound frame into actions for its adapter: frames to send back,
frames to broadcast to the document's connections, updates to apply, writes refused. The
adapter owns sockets, queues, persistence and the lock that orders updates on the document.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Final, Protocol, TypeAlias

from realtime.yjs.awareness import AwarenessState
from realtime.yjs.errors import MalformedMessage
from realtime.yjs.messages import (
    DEFAULT_MAX_MESSAGE_SIZE,
    Auth,
    Awareness,
    Message,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_message,
    encode_auth_denied,
    encode_awareness,
    encode_sync_step1,
    encode_sync_step2,
    encode_sync_update,
)
from realtime.yjs.update_format import InvalidUpdate
from realtime.yjs.yrs import guarded

EMPTY_UPDATE: Final = b"\x00\x00"
"""A Yjs v1 update with no structs and an empty delete set."""

READ_ONLY_REASON: Final = "read-only: document updates are not accepted on this connection"


class YDocument(Protocol):
    """The document operations the protocol needs; `pycrdt.Doc` satisfies it."""

    def get_state(self) -> bytes:
        """The document's state vector."""
        ...

    def get_update(self, state: bytes | None = None, /) -> bytes:
        """Everything the holder of state vector `state` lacks (all of it if None)."""
        ...

    def apply_update(self, update: bytes, /) -> None:
        """Merge an update; raises ValueError if it cannot be decoded."""
        ...


@dataclass(frozen=True, slots=True)
class Reply:
    """Send `frame` to this connection only."""

    frame: bytes


@dataclass(frozen=True, slots=True)
class Broadcast:
    """Send `frame` to every connection of the document, this one too if `include_sender`."""

    frame: bytes
    include_sender: bool


@dataclass(frozen=True, slots=True)
class ApplyUpdate:
    """Apply `update` to the document (see `apply_update`), store it, then send `frame`
    to every other connection of the document."""

    update: bytes
    frame: bytes


@dataclass(frozen=True, slots=True)
class WriteRejected:
    """A read-only connection sent a non-empty update, which was not applied.

    `frame` is an auth permission-denied message naming the reason. A stock client only logs
    it and keeps its local edits. The liveclass adapter sends it and keeps the socket open, so
    a read-only client still follows the document and shows its cursor; when writing is
    allowed again, `set_read_only(False)` asks for the edits the client kept.
    """

    reason: str
    frame: bytes


Action: TypeAlias = Reply | Broadcast | ApplyUpdate | WriteRejected


def apply_update(document: YDocument, update: bytes) -> None:
    """Apply a peer's update, reporting an undecodable one (or a Yrs panic) as
    `InvalidUpdate`; the document may be half-changed after one (see `realtime.yjs.yrs`)."""
    guarded(document.apply_update, update)


class SyncSession:
    """One connection's view of the y-websocket protocol on one shared document.

    `document` and `awareness` are shared by every session on the same document; `connection`
    is any hashable id, unique among them. Handshake: a stock client sends step 1 on open; the
    session answers step 2 (the client then counts itself synced) and its own step 1, whose
    step 2 reply brings the client's offline edits. A read-only session sends no step 1, so it
    never asks for writes, and answers any non-empty write with `WriteRejected`.
    """

    def __init__(
        self,
        document: YDocument,
        awareness: AwarenessState,
        *,
        connection: Hashable,
        read_only: bool = False,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        self._document = document
        self._awareness = awareness
        self._connection = connection
        self._read_only = read_only
        self._max_message_size = max_message_size
        self._synced = False
        self._closed = False

    @property
    def connection(self) -> Hashable:
        """The id this session's awareness states are owned by."""
        return self._connection

    @property
    def read_only(self) -> bool:
        """Whether document writes from this connection are refused."""
        return self._read_only

    @property
    def synced(self) -> bool:
        """Whether the client has been sent a step 2, i.e. holds the whole document."""
        return self._synced

    @property
    def closed(self) -> bool:
        """Whether `close` has been called."""
        return self._closed

    def set_read_only(self, read_only: bool) -> list[Action]:
        """Switch write access live; returns the frames the change needs.

        Becoming writable sends the server's step 1 (never sent while read-only), so the
        client's step 2 brings every local edit the server does not hold yet; without it, the
        client's next updates would depend on structs the server never received.
        """
        if read_only == self._read_only or self._closed:
            return []
        self._read_only = read_only
        if read_only or not self._synced:
            return []
        return [Reply(encode_sync_step1(self._document.get_state()))]

    def open(self) -> list[Action]:
        """Frames to send as the socket opens: the room's awareness, as stock clients never ask."""
        if not len(self._awareness):
            return []
        return [Reply(encode_awareness(self._awareness.snapshot()))]

    def receive(self, frame: bytes) -> list[Action]:
        """Handle one inbound binary frame; raises a `YjsError` the adapter closes with."""
        if self._closed:
            return []
        return self.handle(decode_message(frame, max_size=self._max_message_size))

    def handle(self, message: Message) -> list[Action]:
        """Handle one decoded message."""
        if self._closed:
            return []
        match message:
            case SyncStep1(state_vector=state_vector):
                return self._on_step1(state_vector)
            case SyncStep2(update=update) | SyncUpdate(update=update):
                return self._on_update(update)
            case Awareness(payload=payload):
                return self._on_awareness(payload)
            case QueryAwareness():
                return [Reply(encode_awareness(self._awareness.snapshot()))]
            case Auth():
                return []  # Only servers send auth messages; a client's is ignored.

    def close(self) -> list[Action]:
        """End the session: the broadcast that removes this connection's awareness states."""
        if self._closed:
            return []
        self._closed = True
        change = self._awareness.disconnect(self._connection)
        if not change.entries:
            return []
        return [Broadcast(encode_awareness(change.payload), include_sender=False)]

    def _on_step1(self, state_vector: bytes) -> list[Action]:
        try:
            missing = guarded(self._document.get_update, state_vector)
        except InvalidUpdate as exc:
            raise MalformedMessage(f"invalid state vector: {exc.reason}") from exc
        self._synced = True
        actions: list[Action] = [Reply(encode_sync_step2(missing))]
        if not self._read_only:
            actions.append(Reply(encode_sync_step1(self._document.get_state())))
        return actions

    def _on_update(self, update: bytes) -> list[Action]:
        if update == EMPTY_UPDATE:
            return []
        if self._read_only:
            return [WriteRejected(READ_ONLY_REASON, encode_auth_denied(READ_ONLY_REASON))]
        return [ApplyUpdate(update, encode_sync_update(update))]

    def _on_awareness(self, payload: bytes) -> list[Action]:
        change = self._awareness.apply(payload, connection=self._connection)
        if not change.entries:
            return []
        # Echo to the sender too: a stock client closes a socket silent for 30 s.
        return [Broadcast(encode_awareness(change.payload), include_sender=True)]
