"""The Yjs channel `WS /yjs/{doc_name}?token=...`: the y-websocket protocol over Starlette.

One `YjsConnection` per socket wraps a `SyncSession` (the Sans-I/O protocol core) on a
`LiveDocument`. Inbound frames are handled in order; outbound frames go through a bounded
`ConnectionWriter`. Who may read or write is decided by an `Authorize` callable given at
construction (the rooms package supplies one that reads join tokens), and can change live.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from starlette.websockets import WebSocket

from realtime.connection import ConnectionWriter, Frame
from realtime.errors import (
    ForbiddenError,
    RateLimitedError,
    RealtimeError,
    SlowConsumerError,
    UnsupportedDataError,
)
from realtime.ratelimit import TokenBucket
from realtime.sessions import close, finish, run_until_done
from realtime.yjs.document import LiveDocument
from realtime.yjs.limits import DocumentLimits
from realtime.yjs.publication import DocFrame
from realtime.yjs.registry import DocumentRegistry
from realtime.yjs.sync import (
    Action,
    ApplyUpdate,
    Broadcast,
    Reply,
    SyncSession,
    WriteRejected,
)

logger = logging.getLogger("liveclass.documents")
MAX_NAME_LENGTH = 255


class AccessListener(Protocol):
    """What a `DocumentAccess` tells its connection when access changes."""

    def access_changed(self, writable: bool) -> None:
        """Write access was granted or taken away."""
        ...

    def stop(self, error: RealtimeError) -> None:
        """Access ended: close the connection with `error`."""
        ...


class DocumentAccess(Protocol):
    """One connection's access to one document, kept current by whoever granted it."""

    @property
    def writable(self) -> bool:
        """Whether document updates from this connection are accepted now."""
        ...

    def watch(self, listener: AccessListener) -> None:
        """Tell `listener` about every later change."""
        ...

    def close(self) -> None:
        """The connection ended: stop watching."""
        ...


Authorize = Callable[[str, str], Awaitable[DocumentAccess]]
"""(token, document name) -> access; raises `UnauthorizedError` (4001) or `ForbiddenError`."""


class YjsConnection:
    """One socket on one document; fan-out calls `offer` only, which never waits."""

    def __init__(
        self,
        websocket: WebSocket,
        document: LiveDocument,
        registry: DocumentRegistry,
        *,
        writable: bool,
        limits: DocumentLimits,
    ) -> None:
        self.websocket = websocket
        self.document = document
        self.registry = registry
        self.conn_id = registry.new_conn_id()
        # The queue may also hold one whole document: the step 2 a fresh client syncs from.
        self.writer = ConnectionWriter(
            self._send, max_queue_bytes=limits.send_queue_bytes + limits.max_document_bytes
        )
        self.session = SyncSession(
            document.for_sync,
            document.awareness,
            connection=self.conn_id,
            read_only=not writable,
            max_message_size=limits.max_update_bytes,
        )
        self.stopped: asyncio.Future[RealtimeError] = asyncio.get_running_loop().create_future()
        self.rejected_writes = 0
        self.messages = TokenBucket(limits.messages_per_second, limits.message_burst)
        byte_burst = max(2 * limits.bytes_per_second, limits.max_update_bytes + 64)
        self.octets = TokenBucket(limits.bytes_per_second, byte_burst)

    def admit(self, frame: bytes) -> None:
        """Charge one inbound frame to this connection's rate budgets; past them, 4029."""
        now = time.monotonic()
        if not (self.messages.allow(now) and self.octets.allow(now, len(frame))):
            raise RateLimitedError("too many document messages; slow down")

    async def _send(self, frame: Frame) -> None:
        await self.websocket.send_bytes(frame if isinstance(frame, bytes) else frame.encode())

    def offer(self, frame: Frame) -> bool:
        """Queue a published frame, unless this connection is the one that sent it."""
        if isinstance(frame, DocFrame) and (frame.origin == self.conn_id or frame.control):
            return True
        return self.send(frame)

    def send(self, frame: Frame) -> bool:
        """Queue a frame for this connection only; overflow stops it with 4008."""
        if self.writer.offer(frame):
            return True
        self.stop(SlowConsumerError())
        return False

    def stop(self, error: RealtimeError) -> None:
        """End the session with `error`'s close code (after queued frames are sent)."""
        if not self.stopped.done():
            self.stopped.set_result(error)

    def access_changed(self, writable: bool) -> None:
        """Switch read-only on or off at once; becoming writable asks for the client's edits."""
        for action in self.session.set_read_only(not writable):
            if isinstance(action, Reply):
                self.send(action.frame)

    async def handle(self, frame: bytes) -> None:
        """Run one inbound frame through the protocol core and carry out its actions."""
        await self.perform(self.session.receive(frame))

    async def perform(self, actions: list[Action]) -> None:
        """Carry out protocol actions: replies, publications, durable writes, refusals."""
        for action in actions:
            match action:
                case Reply(frame=frame):
                    self.send(frame)
                case Broadcast(frame=frame, include_sender=include_sender):
                    origin = 0 if include_sender else self.conn_id
                    await self.document.broadcast(frame, origin)
                case ApplyUpdate(update=update):
                    self.document.submit(update, origin=self.conn_id)
                case WriteRejected(frame=frame):
                    # Documented signal: an auth permission-denied message; nothing applied.
                    self.rejected_writes += 1
                    self.send(frame)


class YjsEndpoint:
    """The ASGI WebSocket endpoint of the Yjs channel."""

    def __init__(
        self, registry: DocumentRegistry, *, authorize: Authorize, limits: DocumentLimits
    ) -> None:
        self.registry = registry
        self.authorize = authorize
        self.limits = limits

    async def __call__(self, websocket: WebSocket, doc_name: str) -> None:
        # Accept first, then refuse with a close code: a stock client only sees codes of
        # sockets that opened, and a failed handshake would make it retry forever.
        await websocket.accept()
        try:
            if not doc_name or len(doc_name) > MAX_NAME_LENGTH:
                raise ForbiddenError("no such document")
            access = await self.authorize(websocket.query_params.get("token", ""), doc_name)
        except RealtimeError as error:
            await close(websocket, error)
            return
        except Exception:
            logger.exception("could not authorize a connection to %s", doc_name)
            await close(websocket, RealtimeError())
            return
        try:
            document = await self.registry.acquire(doc_name)
        except RealtimeError as error:
            access.close()
            await close(websocket, error)
            return
        except Exception:
            logger.exception("could not load document %s", doc_name)
            access.close()
            await close(websocket, RealtimeError())
            return
        try:
            await self._serve(websocket, document, access)
        finally:
            access.close()
            self.registry.release(document)

    async def _serve(
        self, websocket: WebSocket, document: LiveDocument, access: DocumentAccess
    ) -> None:
        conn = YjsConnection(
            websocket, document, self.registry, writable=access.writable, limits=self.limits
        )
        writer = conn.writer.start()
        access.watch(conn)
        conn.access_changed(access.writable)  # it may have changed while the document loaded
        error: RealtimeError | None = None
        attached = False
        try:
            await self.registry.attach(document, conn)
            attached = True
            await conn.perform(conn.session.open())
            error = await run_until_done(self._read(conn), conn.stopped, writer, name="yjs")
        except RealtimeError as exc:
            error = exc
        except Exception:
            logger.exception("yjs session failed")
            error = RealtimeError()
        finally:
            if attached:
                self.registry.detach(document, conn)
        with contextlib.suppress(Exception):
            await conn.perform(conn.session.close())  # others see this client's cursor go
        conn.writer.close()
        await finish(websocket, writer, error)

    async def _read(self, conn: YjsConnection) -> None:
        while True:
            message = await conn.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            frame = message.get("bytes")
            if frame is None:
                raise UnsupportedDataError("send binary y-websocket frames")
            conn.admit(frame)
            await conn.handle(frame)
