"""A room-channel WebSocket as the fan-out sees it: its send queue, position and limits."""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect

from realtime.connection import ConnectionWriter, Frame
from realtime.errors import (
    RealtimeError,
    SlowConsumerError,
)
from realtime.ratelimit import TokenBucket
from rooms import frames
from rooms.manager import LiveRoom
from rooms.tokens import JoinClaims

logger = logging.getLogger("liveclass.rooms")


@dataclass(frozen=True, kw_only=True)
class RoomLimits:
    """Per-connection limits of the room channel."""

    max_message_bytes: int = 16_384
    send_queue_bytes: int = 1 << 20
    chat_rate: float = 5.0
    chat_burst: float = 10.0
    control_rate: float = 20.0
    control_burst: float = 40.0
    volatile_rate: float = 10.0
    volatile_burst: float = 20.0
    # Captions: a captioner's partial updates (a few a second while typing) and lines.
    caption_rate: float = 8.0
    caption_burst: float = 16.0
    max_violations: int = 50
    history_limit: int = 1000


def _join_frames(batch: list[Frame]) -> Frame:
    return b"\n".join(f if isinstance(f, bytes) else f.encode() for f in batch)


class _Buckets(dict[str, TokenBucket]):
    """A connection's rate-limit buckets by kind, made on first use (most never send)."""

    __slots__ = ("_limits",)

    def __init__(self, limits: RoomLimits) -> None:
        super().__init__()
        self._limits = limits

    def __missing__(self, kind: str) -> TokenBucket:
        limits = self._limits
        if kind == "chat":
            bucket = TokenBucket(limits.chat_rate, limits.chat_burst)
        elif kind == "volatile":
            bucket = TokenBucket(limits.volatile_rate, limits.volatile_burst)
        elif kind == "caption":
            bucket = TokenBucket(limits.caption_rate, limits.caption_burst)
        else:
            kind, bucket = "control", TokenBucket(limits.control_rate, limits.control_burst)
        return self.setdefault(kind, bucket)


class RoomConnection:
    """One admitted or waiting WebSocket in a room; fan-out calls ``offer`` only.

    It holds no task of its own: the session task reads, and the writer runs only while
    there is something to send (memory per idle connection is what a node's size is).
    """

    __slots__ = (
        "admitted",
        "buckets",
        "claims",
        "conn_id",
        "last_offset",
        "pending",
        "room",
        "stopped",
        "user_id",
        "violations",
        "websocket",
        "writer",
    )

    def __init__(
        self, websocket: WebSocket, claims: JoinClaims, room: LiveRoom, limits: RoomLimits
    ) -> None:
        self.websocket = websocket
        self.claims = claims
        self.user_id = claims.user_id
        self.room = room
        self.conn_id = secrets.token_hex(8)
        self.writer = ConnectionWriter(
            self._send,
            max_queue_bytes=limits.send_queue_bytes,
            join=_join_frames,
            on_error=self._send_failed,
        )
        self.pending: list[Frame] | None = []
        self.last_offset = 0
        self.stopped: asyncio.Future[RealtimeError] = asyncio.get_running_loop().create_future()
        self.admitted: asyncio.Future[None] | None = None  # made while it waits in the lobby
        self.buckets = _Buckets(limits)
        self.violations = 0

    async def _send(self, frame: Frame) -> None:
        text = frame.decode() if isinstance(frame, bytes) else frame
        await self.websocket.send_text(text)

    def offer(self, frame: Frame, *, catch_up: bool = False) -> bool:
        """Queue a frame without waiting, if this connection may see it."""
        audience = getattr(frame, "audience", None)
        if audience is not None and not frames.admits(
            audience, self.user_id, host=self.room.state.is_host(self.user_id)
        ):
            return True
        if self.pending is not None:
            if isinstance(frame, frames.EventFrame):
                self.pending.append(frame)
            return True
        if isinstance(frame, frames.EventFrame):
            if frame.offset <= self.last_offset:
                return True
            self.last_offset = frame.offset
        if not self.writer.offer(frame, catch_up=catch_up):
            self._refused()
            return False
        return True

    def send(self, frame: bytes, *, catch_up: bool = False) -> None:
        """Queue a direct message (welcome, ack, error) for this connection only."""
        if not self.writer.offer(frame, catch_up=catch_up):
            self._refused()

    def _refused(self) -> None:
        self.stop(SlowConsumerError() if self.writer.slow else Gone())

    def _send_failed(self, exc: BaseException) -> None:
        if isinstance(exc, RealtimeError):
            self.stop(exc)
        elif isinstance(exc, OSError | WebSocketDisconnect):
            self.stop(Gone())  # the socket is gone; the read ends too
        else:
            logger.error("room send failed", exc_info=exc)
            self.stop(RealtimeError())

    def go_live(self, welcome: bytes, backlog: list[Frame], after: int) -> None:
        """Send the welcome, then every held event after offset ``after``, then go live.

        The welcome and the held events (bounded by the snapshot and the history kept) may
        exceed the send queue: they do not count as falling behind, live frames do.
        """
        self.send(welcome, catch_up=True)
        held, self.pending = [*backlog, *(self.pending or [])], None
        self.last_offset = after
        for frame in sorted(held, key=lambda f: getattr(f, "offset", 0)):
            self.offer(frame, catch_up=True)

    def stop(self, error: RealtimeError) -> None:
        """End the session with ``error``'s close code (after queued frames are sent)."""
        if not self.stopped.done():
            self.stopped.set_result(error)

    def admit(self) -> None:
        """Let a lobby connection in."""
        if self.admitted is not None and not self.admitted.done():
            self.admitted.set_result(None)


class Gone(RealtimeError):
    """The client left on its own; nothing more to send."""

    close_code = 1000
    default_reason = "bye"
