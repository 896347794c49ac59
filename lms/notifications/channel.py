"""The notification channel ``WS /ws/notifications?token=CHANNEL_TOKEN[&epoch=E&seq=N]``.

One socket per open tab. The server sends ``welcome`` (the unread count, the channel's
position, whether what the tab missed since ``epoch``/``seq`` was replayed), then each
``notification`` and ``unread`` message as it is published on the user's broker channel
(from any node). The client sends only ``ping``. Same transport as the room channel: a
byte-bounded send queue per socket (a slow tab is closed with 4008), an inbound size cap
(1009), text frames only (1003), a rate limit (4029); the token is checked against the
database when the socket opens (4001), and a revocation of the user's sessions closes the
socket (4001). docs/protocol.md has the messages and close codes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket, WebSocketDisconnect

from lms.notifications import live
from persistence.models import Notification, User
from realtime.broker import Broker, Publication, StreamPosition
from realtime.connection import ConnectionWriter, Frame
from realtime.errors import (
    MessageTooLargeError,
    RateLimitedError,
    RealtimeError,
    ServerShutdownError,
    SlowConsumerError,
    UnauthorizedError,
    UnsupportedDataError,
)
from realtime.hub import Hub
from realtime.ratelimit import TokenBucket
from realtime.recovery import Recovered
from realtime.sessions import close, close_after_flush, forget_handshake, read_until_stopped
from rooms.connection import Gone
from rooms.revocation import SignedOutError

logger = logging.getLogger("liveclass.notifications")


@dataclass(frozen=True, kw_only=True)
class ChannelLimits:
    """Per-socket limits of the notification channel."""

    max_message_bytes: int = 4096
    send_queue_bytes: int = 1 << 20
    rate: float = 2.0
    burst: float = 10.0
    max_violations: int = 20
    history_limit: int = 1000


def render(publication: Publication) -> Frame:
    """A publication as tabs get it: its JSON object with ``epoch`` and ``seq`` added
    (encoded once per node, the same bytes for every tab)."""
    head = json.dumps({"epoch": publication.epoch, "seq": publication.offset})[:-1]
    body = publication.payload.strip()
    if not body.startswith(b"{") or body == b"{}":
        return (head + "}").encode()
    return head.encode() + b"," + body[1:]


class Tab:
    """One open socket of one user; fan-out only calls ``offer``."""

    __slots__ = ("bucket", "pending", "stopped", "user_id", "violations", "websocket", "writer")

    def __init__(self, websocket: WebSocket, user_id: uuid.UUID, limits: ChannelLimits) -> None:
        self.websocket = websocket
        self.user_id = user_id
        self.writer = ConnectionWriter(
            self._send, max_queue_bytes=limits.send_queue_bytes, on_error=self._failed
        )
        self.pending: list[Frame] | None = []
        self.stopped: asyncio.Future[RealtimeError] = asyncio.get_running_loop().create_future()
        self.bucket = TokenBucket(limits.rate, limits.burst)
        self.violations = 0

    async def _send(self, frame: Frame) -> None:
        await self.websocket.send_text(frame.decode() if isinstance(frame, bytes) else frame)

    def offer(self, frame: Frame, *, catch_up: bool = False) -> bool:
        """Queue a frame (held back until the welcome went out)."""
        if self.pending is not None:
            self.pending.append(frame)
            return True
        if not self.writer.offer(frame, catch_up=catch_up):
            self.stop(SlowConsumerError() if self.writer.slow else Gone())
            return False
        return True

    def go_live(self, welcome: bytes) -> None:
        """Send the welcome, then what arrived meanwhile, then go live."""
        held, self.pending = self.pending or [], None
        self.offer(welcome, catch_up=True)
        for frame in held:
            self.offer(frame, catch_up=True)

    def stop(self, error: RealtimeError) -> None:
        """End the session with ``error``'s close code."""
        if not self.stopped.done():
            self.stopped.set_result(error)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, RealtimeError):
            self.stop(exc)
        elif isinstance(exc, OSError | WebSocketDisconnect):
            self.stop(Gone())
        else:
            logger.error("notification send failed", exc_info=exc)
            self.stop(RealtimeError())


def _since(websocket: WebSocket) -> StreamPosition | None:
    epoch = websocket.query_params.get("epoch")
    seq = websocket.query_params.get("seq")
    if not epoch or not seq or not seq.isdigit() or len(epoch) > 64 or len(seq) > 18:
        return None
    return StreamPosition(int(seq), epoch)


class NotificationChannel:
    """The endpoint, its hub over the node's broker, and the node's open tabs by user (a
    ``rooms.revocation.Target``: revoked sessions close the user's tabs)."""

    def __init__(
        self,
        broker: Broker,
        sessions: async_sessionmaker[AsyncSession],
        *,
        secret: Callable[[], str],
        limits: ChannelLimits,
    ) -> None:
        self.hub = Hub(broker, render=render, recovery_limit=limits.history_limit)
        self.sessions = sessions
        self.secret = secret
        self.limits = limits
        self.tabs: dict[uuid.UUID, set[Tab]] = {}

    def gauges(self) -> dict[str, float]:
        """Open tabs and users with one, for /metrics."""
        return {
            "tabs": float(sum(len(t) for t in self.tabs.values())),
            "users": float(len(self.tabs)),
        }

    def revoke(self, user_id: str, rooms: frozenset[str] | None, error: RealtimeError) -> int:
        """Close ``user_id``'s tabs on this node when all their sessions end."""
        if rooms is not None:
            return 0  # a course removal: nothing to do with notifications
        try:
            found = self.tabs.get(uuid.UUID(user_id), set())
        except ValueError:
            return 0
        for tab in list(found):
            tab.stop(SignedOutError())
        return len(found)

    async def close(self) -> None:
        """Stop every tab (a shutdown) and drop the hub's subscriptions."""
        for tabs in list(self.tabs.values()):
            for tab in list(tabs):
                tab.stop(ServerShutdownError())
        await self.hub.close()

    async def __call__(self, websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            user_id = await self._admit(websocket)
        except RealtimeError as refused:
            await close(websocket, refused)
            return
        tab = Tab(websocket, user_id, self.limits)
        self.tabs.setdefault(user_id, set()).add(tab)
        error: RealtimeError | None
        try:
            await self._enter(tab)
            forget_handshake(websocket)
            error = await read_until_stopped(self._read(tab), tab.stopped, name="notifications")
        except RealtimeError as exc:
            error = exc
        except Exception:
            logger.exception("notification session failed")
            error = RealtimeError()
        finally:
            self.hub.leave_all(tab)
            found = self.tabs.get(user_id)
            if found is not None:
                found.discard(tab)
                if not found:
                    del self.tabs[user_id]
        await close_after_flush(websocket, tab.writer, error)

    async def _admit(self, websocket: WebSocket) -> uuid.UUID:
        token = websocket.query_params.get("token", "")
        if not token or len(token) > 2048:
            raise UnauthorizedError("a channel token is required")
        try:
            claims = live.read(token, secret=self.secret())
        except live.ChannelTokenError:
            raise UnauthorizedError("invalid or expired channel token") from None
        async with self.sessions() as session:
            user = await session.get(User, claims.user_id)
            if user is None or not user.is_active or user.token_version != claims.version:
                raise SignedOutError()
        return claims.user_id

    async def _enter(self, tab: Tab) -> None:
        channel = live.channel(tab.user_id)
        since = _since(tab.websocket)
        recovered = False
        if since is not None:
            outcome = await self.hub.resume(channel, tab, since)
            recovered = isinstance(outcome, Recovered)
            position = outcome.position
        else:
            await self.hub.join(channel, tab)
            position = await self.hub.broker.position(channel)
        if tab.stopped.done():
            raise tab.stopped.result()
        async with self.sessions() as session:
            unread = (
                await session.execute(
                    select(func.count()).where(
                        Notification.user_id == tab.user_id, Notification.read_at.is_(None)
                    )
                )
            ).scalar_one()
        welcome = {
            "type": "welcome",
            "unread": int(unread),
            "epoch": position.epoch,
            "seq": position.offset,
            "recovered": recovered,
        }
        tab.go_live(json.dumps(welcome).encode())

    async def _read(self, tab: Tab) -> None:
        cap = self.limits.max_message_bytes
        while True:
            message = await tab.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                raise UnsupportedDataError("send JSON text frames")
            if len(text) > cap or (not text.isascii() and len(text.encode()) > cap):
                raise MessageTooLargeError(f"messages are limited to {cap} bytes")
            if not tab.bucket.allow(time.monotonic()):
                tab.violations += 1
                if tab.violations > self.limits.max_violations:
                    raise RateLimitedError()
                self._reply(tab, {"type": "error", "code": "rate-limited"})
                continue
            self._answer(tab, text)

    def _answer(self, tab: Tab, text: str) -> None:
        try:
            parsed = json.loads(text)
        except ValueError:
            self._reply(tab, {"type": "error", "code": "invalid-json"})
            return
        if not isinstance(parsed, dict) or parsed.get("type") != "ping":
            self._reply(tab, {"type": "error", "code": "unknown-message"})
            return
        ref = parsed.get("ref")
        reply: dict[str, object] = {"type": "pong"}
        if isinstance(ref, str) and len(ref) <= 64:
            reply["ref"] = ref
        self._reply(tab, reply)

    @staticmethod
    def _reply(tab: Tab, message: dict[str, object]) -> None:
        tab.offer(json.dumps(message).encode())
