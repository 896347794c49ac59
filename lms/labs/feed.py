"""A lab's realtime feed `WS /ws/labs/{lab_id}?token=FEED_TOKEN` (docs/protocol.md, "Labs").

Everyone in the lab opens one: learners get the lab's live state (`welcome`, then `lock`,
`broadcast`, `share`, `queue` signals as they happen, from any node); the course's
instructors and TAs get the same plus the grid (`welcome.workspaces`, then coalesced
`workspaces` messages, see `grid`) and the staff signals (`changed`). The client sends only
`{"type": "ping"}`. Same transport rules as the other channels: a byte-bounded send queue
(4008 when a socket is too slow), text frames only (1003), an inbound cap (1009), a rate
limit (4029); the token is checked against the database at connect (4001; 4003 for someone
not in the course), and revoked sessions or removal from the course close the socket. When
the lab is archived (deleted after it started) every feed closes with 4004 `lab archived`,
on every node (the signal on the lab's channel), and none opens again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket, WebSocketDisconnect

from lms.labs import signals, tokens
from lms.labs.errors import LabArchivedError
from lms.labs.grid import LabGrid, Viewer
from lms.labs.roles import LabRole, role_in
from lms.labs.signals import LabSignals
from lms.labs.state import live_state
from persistence.models import Lab, User
from realtime.connection import ConnectionWriter, Frame
from realtime.errors import (
    ForbiddenError,
    MessageTooLargeError,
    RateLimitedError,
    RealtimeError,
    ServerShutdownError,
    SlowConsumerError,
    UnauthorizedError,
    UnsupportedDataError,
)
from realtime.ratelimit import TokenBucket
from realtime.sessions import close, close_after_flush, forget_handshake, read_until_stopped
from realtime.yjs.registry import DocumentRegistry
from rooms.connection import Gone

logger = logging.getLogger("liveclass.labs")
MAX_MESSAGE = 1024


class FeedSocket(Viewer):
    """One open feed; fan-out only calls ``offer``."""

    def __init__(
        self, websocket: WebSocket, user_id: str, course_id: str, role: LabRole, queue: int
    ) -> None:
        self.websocket = websocket
        self.user_id = user_id
        self.course_id = course_id
        self.role = role
        self.writer = ConnectionWriter(self._send, max_queue_bytes=queue, on_error=self._failed)
        self.pending: list[Frame] | None = []
        self.stopped: asyncio.Future[RealtimeError] = asyncio.get_running_loop().create_future()
        self.bucket = TokenBucket(2.0, 10.0)

    async def _send(self, frame: Frame) -> None:
        await self.websocket.send_text(frame.decode() if isinstance(frame, bytes) else frame)

    def offer(self, frame: Frame) -> bool:
        if self.pending is not None:
            self.pending.append(frame)
            return True
        if not self.writer.offer(frame):
            self.stop(SlowConsumerError() if self.writer.slow else Gone())
            return False
        return True

    def go_live(self, welcome: str) -> None:
        """Send the welcome, then what arrived meanwhile."""
        held, self.pending = self.pending or [], None
        self.offer(welcome)
        for frame in held:
            self.offer(frame)

    def stop(self, error: RealtimeError) -> None:
        if not self.stopped.done():
            self.stopped.set_result(error)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, RealtimeError):
            self.stop(exc)
        elif isinstance(exc, OSError | WebSocketDisconnect):
            self.stop(Gone())
        else:
            logger.error("lab feed send failed", exc_info=exc)
            self.stop(RealtimeError())


class _ArchiveWatch:
    """Closes one feed (4004) when the lab's channel says the lab was archived."""

    def __init__(self, socket: FeedSocket) -> None:
        self.socket = socket

    def offer(self, frame: Frame) -> bool:
        raw = frame.encode() if isinstance(frame, str) else bytes(frame)
        if b"archived" in raw:
            try:
                message = json.loads(raw)
            except ValueError:
                return True
            if isinstance(message, dict) and message.get("status") == "archived":
                self.socket.stop(LabArchivedError())
        return True


class LabFeeds:
    """The feed endpoint and this node's grids (one per watched lab); a revocation target."""

    def __init__(
        self,
        *,
        registry: DocumentRegistry,
        sessions: async_sessionmaker[AsyncSession],
        secret: Callable[[], str],
        lab_signals: LabSignals,
        send_queue_bytes: int = 1 << 20,
    ) -> None:
        self.registry = registry
        self.sessions = sessions
        self.secret = secret
        self.signals = lab_signals
        self.queue = send_queue_bytes
        self.grids: dict[uuid.UUID, LabGrid] = {}
        self.sockets: set[FeedSocket] = set()

    def revoke(self, user_id: str, scopes: frozenset[str] | None, error: RealtimeError) -> int:
        """Close ``user_id``'s feeds (in the courses among ``scopes``, or all)."""
        hit = [
            s
            for s in list(self.sockets)
            if s.user_id == user_id and (scopes is None or s.course_id in scopes)
        ]
        for socket in hit:
            socket.stop(error)
        return len(hit)

    async def close(self) -> None:
        """Stop every feed (a shutdown) and every grid."""
        for socket in list(self.sockets):
            socket.stop(ServerShutdownError())
        for grid in list(self.grids.values()):
            await grid.close()
        self.grids.clear()

    async def __call__(self, websocket: WebSocket, lab_id: str) -> None:
        await websocket.accept()
        try:
            lab, user, role = await self._admit(websocket, lab_id)
        except RealtimeError as refused:
            await close(websocket, refused)
            return
        socket = FeedSocket(websocket, str(user.id), str(lab.course_id), role, self.queue)
        self.sockets.add(socket)
        grid: LabGrid | None = None
        watch = _ArchiveWatch(socket)
        error: RealtimeError | None
        try:
            await self.signals.hub.join(signals.channel(lab.id), socket)
            await self.signals.hub.join(signals.channel(lab.id), watch)
            if role == "staff":
                await self.signals.hub.join(signals.staff_channel(lab.id), socket)
                grid = await self._grid(lab.id)
                grid.viewers.add(socket)
            async with self.sessions() as session:
                state = await live_state(session, lab.id)
            welcome: dict[str, Any] = {"type": "welcome", "role": role, **state}
            if grid is not None:
                welcome["workspaces"] = grid.snapshot()
            socket.go_live(json.dumps(welcome, default=str))
            forget_handshake(websocket)
            error = await read_until_stopped(self._read(socket), socket.stopped, name="lab feed")
        except RealtimeError as exc:
            error = exc
        except Exception:
            logger.exception("lab feed failed")
            error = RealtimeError()
        finally:
            self.signals.hub.leave_all(socket)
            self.signals.hub.leave_all(watch)
            self.sockets.discard(socket)
            if grid is not None:
                grid.viewers.discard(socket)
                if not grid.viewers and self.grids.get(lab.id) is grid:
                    del self.grids[lab.id]
                    await grid.close()
        await close_after_flush(websocket, socket.writer, error)

    async def _grid(self, lab_id: uuid.UUID) -> LabGrid:
        grid = self.grids.get(lab_id)
        if grid is None:
            grid = self.grids[lab_id] = LabGrid(
                lab_id, registry=self.registry, sessions=self.sessions, lab_signals=self.signals
            )
            try:
                await grid.start()
            except BaseException:
                self.grids.pop(lab_id, None)
                await grid.close()
                raise
        else:
            await asyncio.shield(grid.ready)
        return grid

    async def _admit(self, websocket: WebSocket, lab_id: str) -> tuple[Lab, User, LabRole]:
        try:
            claims = tokens.read(
                websocket.query_params.get("token", ""),
                audience=tokens.FEED_AUDIENCE,
                secret=self.secret(),
            )
        except tokens.TokenError:
            raise UnauthorizedError("invalid or expired feed token") from None
        if claims.subject != lab_id:
            raise ForbiddenError("the token grants no access to this lab")
        try:
            key = uuid.UUID(lab_id)
        except ValueError:
            raise ForbiddenError("no such lab") from None
        async with self.sessions() as session:
            user = await session.get(User, claims.user_id)
            if user is None or not user.is_active or user.token_version != claims.version:
                raise UnauthorizedError("the account's sessions were revoked")
            lab = await session.get(Lab, key)
            if lab is None:
                raise ForbiddenError("no such lab")
            if lab.status == "archived":
                raise LabArchivedError()
            role = await role_in(session, user, lab)
        if role is None:
            raise ForbiddenError("you are not in this lab's course")
        return lab, user, role

    async def _read(self, socket: FeedSocket) -> None:
        strikes = 0
        while True:
            message = await socket.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                raise UnsupportedDataError("send JSON text frames")
            if len(text) > MAX_MESSAGE:
                raise MessageTooLargeError(f"messages are limited to {MAX_MESSAGE} bytes")
            if not socket.bucket.allow(time.monotonic()):
                strikes += 1
                if strikes > 20:
                    raise RateLimitedError()
                continue
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            kind = parsed.get("type") if isinstance(parsed, dict) else None
            reply = {"type": "pong"} if kind == "ping" else {"type": "error", "code": "unknown"}
            socket.offer(json.dumps(reply))
