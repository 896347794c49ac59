"""The room channel ``WS /ws/rooms/{room_id}``: one session per WebSocket, over the manager."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from starlette.websockets import WebSocket

from realtime.broker import StreamPosition
from realtime.errors import (
    ForbiddenError,
    MessageTooLargeError,
    RateLimitedError,
    RealtimeError,
    UnauthorizedError,
    UnsupportedDataError,
)
from realtime.recovery import Recovered, recover
from realtime.sessions import close, close_after_flush, forget_handshake, read_until_stopped
from rooms import frames, presence
from rooms.catalogue import CATALOGUE
from rooms.connection import Gone, RoomConnection, RoomLimits
from rooms.dispatch import Actor, Outcome
from rooms.errors import Rejected, RoomEndedError, RoomError, RoomFullError
from rooms.kinds import MessageKind
from rooms.manager import LiveRoom, RoomManager, now_utc
from rooms.media import MediaSignalling
from rooms.messages import PROTOCOL_VERSION, Ping
from rooms.roles import RoomRole, is_host
from rooms.tokens import JoinClaims, JoinTokenError, read

logger = logging.getLogger("liveclass.rooms")
_NO_DOCUMENTS: dict[str, str] = {}
NO_MEDIA = Rejected("media-unavailable", "Media is not available on this server.")


def _since(websocket: WebSocket) -> StreamPosition | None:
    epoch = websocket.query_params.get("epoch")
    seq = websocket.query_params.get("seq")
    if not epoch or not seq or not seq.isdigit() or len(epoch) > 64:
        return None
    return StreamPosition(int(seq), epoch)


class RoomEndpoint:
    """The ASGI WebSocket endpoint; ``require_token`` marks its access rule for the guards."""

    def __init__(
        self,
        manager: RoomManager,
        *,
        secret: Callable[[], str],
        limits: RoomLimits,
        media: MediaSignalling | None = None,
    ) -> None:
        self.manager = manager
        self.secret = secret
        self.limits = limits
        self.media = media

    async def __call__(self, websocket: WebSocket, room_id: str) -> None:
        await websocket.accept()
        try:
            claims = self._claims(websocket, room_id)
            room = await self.manager.acquire(claims.room_id)
        except RealtimeError as error:
            await close(websocket, error)
            return
        if room is None:
            await close(websocket, ForbiddenError("no such room"))
            return
        try:
            await self._serve(websocket, claims, room)
        finally:
            self.manager.release(room)

    def _claims(self, websocket: WebSocket, room_id: str) -> JoinClaims:
        token = websocket.query_params.get("token", "")
        try:
            claims = read(token, secret=self.secret())
        except JoinTokenError:
            raise UnauthorizedError("invalid or expired join token") from None
        if claims.room_id != room_id:
            raise UnauthorizedError("token is for another room")
        # Grants and document rights come from the room state, not the token: not kept.
        return replace(claims, grants=frozenset(), documents=_NO_DOCUMENTS)

    async def _serve(self, websocket: WebSocket, claims: JoinClaims, room: LiveRoom) -> None:
        conn = RoomConnection(websocket, claims, room, self.limits)
        room.joining[conn] = None  # from now on removals and revocations reach it
        joined = False
        error: RealtimeError | None
        try:
            self._check_open(conn, room)
            await self._admit(conn, room)
            self._check_entry(conn, room)
            if self._must_wait(conn, room):
                await self._wait_in_lobby(conn, room)
            await self._enter(conn, room)
            joined = True
            forget_handshake(websocket)
            error = await read_until_stopped(self._read(conn, conn.room), conn.stopped, name="room")
        except RealtimeError as exc:
            error = exc
        except Exception:
            logger.exception("room session failed")
            error = RealtimeError()
        finally:
            room.joining.pop(conn, None)
            room.waiting.discard(conn)
            room.connections.discard(conn)
            self.manager.hub.leave_all(conn)
        if joined:
            if self.media is not None:
                try:
                    await self.media.leave(conn, room)
                except Exception:
                    logger.exception("media teardown failed")
            await self._announce_departure(conn, room)
        await close_after_flush(websocket, conn.writer, error)

    @staticmethod
    def _check_open(conn: RoomConnection, room: LiveRoom) -> None:
        """Refusals that depend on nobody's role: the class is over, the user is banned."""
        if room.state.status == "ended":
            raise RoomEndedError()
        if conn.user_id in room.state.banned:
            raise ForbiddenError("banned from this room")

    async def _admit(self, conn: RoomConnection, room: LiveRoom) -> None:
        """Check the token's holder against the database now: the account's sessions must
        not be revoked, and the role is the one the room's membership gives today (the
        token's own only for someone the room does not know). A role a host gave meanwhile
        wins over what was read; a removal or revocation meanwhile has stopped ``conn``."""
        admitted = await self.manager.admit(conn.claims)
        if conn.stopped.done():
            raise conn.stopped.result()
        assigned = room.joining.get(conn)
        conn.claims = replace(admitted, role=assigned or admitted.role)

    def _check_entry(self, conn: RoomConnection, room: LiveRoom) -> None:
        state, user = room.state, conn.user_id
        self._check_open(conn, room)
        if is_host(conn.claims.role):
            return
        if state.settings.get("locked") and user not in state.seen:
            raise ForbiddenError("room locked")
        present = sum(1 for p in state.participants.values() if not is_host(p.role))
        limit = int(state.settings.get("max_participants") or 0)
        if limit and user not in state.participants and present >= limit:
            raise RoomFullError()

    @staticmethod
    def _must_wait(conn: RoomConnection, room: LiveRoom) -> bool:
        state = room.state
        return (
            conn.claims.lobby
            and bool(state.settings.get("lobby"))
            and not is_host(conn.claims.role)
            and conn.user_id not in state.admitted
            and conn.user_id not in state.participants
        )

    async def _wait_in_lobby(self, conn: RoomConnection, room: LiveRoom) -> None:
        admitted = conn.admitted = asyncio.get_running_loop().create_future()
        room.waiting.add(conn)
        now = now_utc()
        await self.manager.publish(
            room.state.room_id,
            [
                presence.lobby_waiting(
                    user_id=conn.user_id, name=conn.claims.name, conn_id=conn.conn_id, now=now
                )
            ],
        )
        conn.send(frames.message("lobby.waiting", protocol=PROTOCOL_VERSION))
        reader = asyncio.create_task(self._read_while_waiting(conn))
        waiters: list[asyncio.Future[Any]] = [admitted, conn.stopped, reader]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            reader.cancel()
            room.waiting.discard(conn)
        if conn.stopped.done():
            raise conn.stopped.result()
        if not admitted.done():
            await self.manager.publish(
                room.state.room_id,
                [presence.lobby_left(user_id=conn.user_id, conn_id=conn.conn_id, now=now_utc())],
            )
            done = reader.done() and not reader.cancelled()
            if done and isinstance(exc := reader.exception(), RealtimeError):
                raise exc
            raise Gone()

    async def _read_while_waiting(self, conn: RoomConnection) -> None:
        while True:
            message = await conn.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = self._text_of(message)
            with contextlib.suppress(RoomError):
                if isinstance(found := CATALOGUE.parse(text), Ping):
                    conn.send(frames.message("pong", ref=found.ref))

    def _text_of(self, message: Any) -> str:
        """The text of a received frame, or the error that closes the socket."""
        text = message.get("text")
        if text is None:
            raise UnsupportedDataError("send JSON text frames")
        cap = self.limits.max_message_bytes
        if len(text) > cap or (not text.isascii() and len(text.encode()) > cap):
            raise MessageTooLargeError(f"messages are limited to {cap} bytes")
        return str(text)

    async def _enter(self, conn: RoomConnection, room: LiveRoom) -> None:
        state = room.state
        room_id = state.room_id
        await self.manager.hub.join(frames.channel(room_id), conn)
        await self.manager.hub.join(frames.volatile_channel(room_id), conn)
        if conn.stopped.done():  # removed or revoked while joining: never announced
            raise conn.stopped.result()
        room.connections.add(conn)
        await self.manager.liveness.arrive(conn, room)
        async with room.presence:
            current = state.role_of(conn.user_id) or room.joining.get(conn) or conn.claims.role
            await self.manager.publish(
                room_id,
                [
                    presence.connected(
                        state,
                        user_id=conn.user_id,
                        name=conn.claims.name,
                        role=RoomRole(current),
                        conn_id=conn.conn_id,
                        node=self.manager.node_id,
                        now=now_utc(),
                    )
                ],
            )
        room.joining.pop(conn, None)
        await self._welcome(conn, room)

    async def _welcome(self, conn: RoomConnection, room: LiveRoom) -> None:
        state = room.state
        since = _since(conn.websocket)
        you = {
            "user_id": conn.user_id,
            "name": conn.claims.name,
            "conn_id": conn.conn_id,
            "role": (state.role_of(conn.user_id) or conn.claims.role).value,
            "grants": sorted(state.grants(conn.user_id)),
        }
        fields: dict[str, Any] = {"protocol": PROTOCOL_VERSION, "you": you}
        if self.media is not None:
            fields["ice_servers"] = self.media.ice_servers
        if since is not None:
            channel = frames.channel(state.room_id)
            history = await self.manager.hub.broker.history(
                channel, since.offset, self.limits.history_limit
            )
            outcome = recover(since, history)
            if isinstance(outcome, Recovered) and since.epoch == state.epoch:
                backlog = [frames.render(p) for p in outcome.publications]
                position = {"epoch": state.epoch, "seq": since.offset}
                conn.go_live(
                    frames.message("welcome", recovered=True, position=position, **fields),
                    backlog,
                    since.offset,
                )
                return
            fields["recovery_failed"] = getattr(outcome, "reason", "epoch changed")
        position = {"epoch": state.epoch, "seq": state.offset}
        snapshot = state.snapshot(conn.user_id)
        welcome = frames.message(
            "welcome", recovered=False, position=position, snapshot=snapshot, **fields
        )
        conn.go_live(welcome, [], state.offset)

    async def _read(self, conn: RoomConnection, room: LiveRoom) -> None:
        while True:
            message = await conn.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            await self._handle(conn, room, self._text_of(message))

    async def _handle(self, conn: RoomConnection, room: LiveRoom, text: str) -> None:
        """One client message: parse, rate limit, dispatch (grant check and pure handler),
        publish its events, run its SFU step if it has one, answer ``ack`` or ``error``."""
        ref = None
        try:
            message = CATALOGUE.parse(text)
            ref = message.ref
            if isinstance(message, Ping):
                conn.send(frames.message("pong", ref=ref))
                return
            kind = CATALOGUE.kind_of(message)
            self._rate_limit(conn, kind)
            actor = Actor(conn.user_id, conn.claims.name, conn.conn_id)
            outcome = CATALOGUE.dispatch(room.state, actor, message, now_utc())
            reply = await self._carry_out(conn, room, outcome, ref)
        except RoomError as error:
            conn.send(
                frames.message(
                    "error", ref=error.ref or ref, code=error.code, message=error.message
                )
            )
            return
        if reply is not None:
            conn.send(frames.message("ack", ref=ref, **reply))

    async def _carry_out(
        self, conn: RoomConnection, room: LiveRoom, outcome: Outcome, ref: str | None
    ) -> dict[str, Any] | None:
        """Publish an outcome's events, then run its effect; the ack's fields (None: sent)."""
        room_id = room.state.room_id
        kept = await self.manager.publish(room_id, outcome.events)
        await self.manager.publish_volatile(room_id, outcome.volatile)
        for other_room, event in outcome.elsewhere:
            await self.manager.publish(other_room, [event])
        if not all(kept):
            raise outcome.refused or Rejected("rejected", "The room did not accept this.")
        if outcome.effect is None:
            return outcome.reply
        if self.media is None:
            raise NO_MEDIA
        if outcome.ack_first:
            conn.send(frames.message("ack", ref=ref, **outcome.reply))
        result = await self.media.perform(outcome.effect, conn)
        return None if outcome.ack_first else {**outcome.reply, **result}

    def _rate_limit(self, conn: RoomConnection, kind: MessageKind) -> None:
        bucket = conn.buckets[kind.rate]
        if bucket.allow(time.monotonic()):
            return
        conn.violations += 1
        if conn.violations > self.limits.max_violations:
            raise RateLimitedError()
        raise RoomError("rate-limited", "Slow down: too many messages.")

    async def _announce_departure(self, conn: RoomConnection, room: LiveRoom) -> None:
        state = room.state
        await self.manager.liveness.depart(conn, room)
        async with room.presence:
            if conn.user_id not in state.participants or state.status == "ended":
                return
            if conn.conn_id not in state.participants[conn.user_id].connections:
                return
            event = presence.disconnected(
                state, user_id=conn.user_id, conn_id=conn.conn_id, now=now_utc()
            )
            with contextlib.suppress(Exception):
                await self.manager.publish(state.room_id, [event])
