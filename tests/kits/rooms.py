"""A room-channel client for tests: a real WebSocket to a real node, plus REST helpers.

The server sends text frames holding one or more JSON objects separated by newlines; the
client splits them, keeps every message in ``log`` and offers them to ``next`` (which takes
the first unread message matching a predicate). It tracks the room position (epoch, last
seq) the way a browser would, so a test can reconnect with ``?epoch=..&seq=..``.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TIMEOUT = 20.0
"""Seconds a test waits for something that must happen (a liveness bound, not a timing check)."""

Message = dict[str, Any]
Predicate = Callable[[Message], bool]
_refs = itertools.count(1)


class ClosedError(AssertionError):
    """The socket closed while a test was waiting for a message."""


class NodeLike(Protocol):
    """What the room kit needs of a node (``kits.nodes.Node``, or a cluster's node)."""

    @property
    def url(self) -> str: ...

    def register(self, role: str = "student", *, email: str | None = None) -> tuple[str, str]: ...

    def admin_token(self) -> str: ...


def of(kind: str, **fields: Any) -> Predicate:
    """A predicate: a message of type ``kind`` whose ``fields`` have the given values."""

    def match(message: Message) -> bool:
        return message.get("type") == kind and all(message.get(k) == v for k, v in fields.items())

    return match


def chat_with(text: str) -> Predicate:
    """A predicate: the ``chat.message`` carrying ``text``."""
    return lambda m: m.get("type") == "chat.message" and m["message"]["text"] == text


# ------------------------------------------------------------------ people and REST


@dataclass(frozen=True)
class Person:
    """An account on a node: what the tests need to act as it."""

    email: str
    token: str
    user_id: str
    name: str


def register(node: NodeLike, role: str = "student") -> Person:
    """Create an account with platform ``role`` (blocking; use in fixtures)."""
    email, token = node.register(role)
    with httpx.Client(base_url=node.url, timeout=30.0) as client:
        me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200, me.text
    return Person(email, token, str(me.json()["id"]), str(me.json()["name"]))


def admin(node: NodeLike) -> Person:
    """The node's admin (created once per node by the fixtures)."""
    token = node.admin_token()
    with httpx.Client(base_url=node.url, timeout=30.0) as client:
        me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200, me.text
    found = me.json()
    return Person(str(found["email"]), token, str(found["id"]), str(found["name"]))


async def rest(
    node: NodeLike, person: Person | None, method: str, path: str, **kwargs: Any
) -> httpx.Response:
    """One REST call to the node, as ``person`` (anonymous when None)."""
    headers = {"Authorization": f"Bearer {person.token}"} if person else {}
    async with httpx.AsyncClient(base_url=node.url, timeout=30.0, headers=headers) as client:
        return await client.request(method, path, **kwargs)


async def create_room(node: NodeLike, host: Person, **settings: Any) -> str:
    """Create a room hosted by ``host``; return its id."""
    response = await rest(
        node, host, "POST", "/api/v1/rooms", json={"title": "Test class", **settings}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def invite(node: NodeLike, host: Person, room_id: str, person: Person, role: str) -> None:
    """Invite ``person`` to the room with a room ``role``."""
    response = await rest(
        node,
        host,
        "POST",
        f"/api/v1/rooms/{room_id}/members",
        json={"user_id": person.user_id, "role": role},
    )
    assert response.status_code == 201, response.text


async def join_token(node: NodeLike, person: Person, room_id: str) -> str:
    """A join token for ``person`` (asserting the server grants one)."""
    response = await rest(node, person, "POST", f"/api/v1/rooms/{room_id}/join")
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def ws_base(node: NodeLike) -> str:
    return node.url.replace("http://", "ws://", 1)


# ------------------------------------------------------------------ the client


class RoomClient:
    """One WebSocket on ``/ws/rooms/{room}``; a background task reads everything."""

    def __init__(self, ws: ClientConnection, label: str) -> None:
        self.ws = ws
        self.label = label
        self.log: list[Message] = []
        self.inbox: list[Message] = []
        self.frames = 0
        self.epoch: str | None = None
        self.seq: int | None = None
        self.welcome: Message | None = None
        self.close_code: int | None = None
        self.close_reason: str = ""
        self._cond = asyncio.Condition()
        self._done = False
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(
        cls,
        node: NodeLike,
        room_id: str,
        token: str,
        *,
        epoch: str | None = None,
        seq: int | None = None,
        welcome: bool = True,
        label: str = "",
        **connect_options: Any,
    ) -> RoomClient:
        """Connect with a join token (and a position to recover from); await the welcome."""
        query: dict[str, Any] = {"token": token}
        if epoch is not None:
            query["epoch"] = epoch
        if seq is not None:
            query["seq"] = seq
        url = f"{ws_base(node)}/ws/rooms/{room_id}?{urlencode(query)}"
        options: dict[str, Any] = {"open_timeout": TIMEOUT, "compression": None, "proxy": None}
        ws = await connect(url, **{**options, **connect_options})
        client = cls(ws, label or room_id[:8])
        if welcome:
            await client.next(of("welcome"))
        return client

    @classmethod
    async def enter(
        cls, node: NodeLike, person: Person, room_id: str, **options: Any
    ) -> RoomClient:
        """Get a join token for ``person`` and connect."""
        token = await join_token(node, person, room_id)
        return await cls.open(node, room_id, token, label=person.email.split("@")[0], **options)

    # ---------------------------------------------------------------- reading

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                text = frame.decode() if isinstance(frame, bytes) else frame
                parsed = [orjson.loads(line) for line in text.split("\n") if line]
                async with self._cond:
                    self.frames += 1
                    for message in parsed:
                        self._track(message)
                        self.log.append(message)
                        self.inbox.append(message)
                    self._cond.notify_all()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self.close_reason = self.ws.close_reason or ""
            async with self._cond:
                self._done = True
                self._cond.notify_all()

    def _track(self, message: Message) -> None:
        if message.get("type") == "welcome":
            self.welcome = message
            self.epoch = message["position"]["epoch"]
            self.seq = message["position"]["seq"]
        elif isinstance(message.get("seq"), int):
            assert self.seq is None or message["seq"] > self.seq, (
                f"{self.label}: seq went from {self.seq} to {message['seq']}"
            )
            self.seq = message["seq"]

    @property
    def me(self) -> Message:
        assert self.welcome is not None
        you: Message = self.welcome["you"]
        return you

    @property
    def user_id(self) -> str:
        return str(self.me["user_id"])

    @property
    def conn_id(self) -> str:
        return str(self.me["conn_id"])

    @property
    def snapshot(self) -> Message:
        assert self.welcome is not None and "snapshot" in self.welcome
        found: Message = self.welcome["snapshot"]
        return found

    async def next(self, predicate: Predicate, *, within: float = TIMEOUT) -> Message:
        """Take the first unread message matching ``predicate``, waiting for it if needed."""

        def find() -> Message | None:
            for index, message in enumerate(self.inbox):
                if predicate(message):
                    return self.inbox.pop(index)
            return None

        async def wait() -> Message:
            async with self._cond:
                while (found := find()) is None:
                    if self._done:
                        raise ClosedError(
                            f"{self.label}: closed ({self.close_code} {self.close_reason!r}) "
                            "before the expected message arrived"
                        )
                    await self._cond.wait()
                return found

        try:
            return await asyncio.wait_for(wait(), within)
        except TimeoutError:
            kinds = [m.get("type") for m in self.inbox[-20:]]
            raise AssertionError(
                f"{self.label}: no matching message within {within} s; unread: {kinds}"
            ) from None

    def received(self, predicate: Predicate) -> list[Message]:
        """Every message received so far that matches ``predicate``."""
        return [m for m in self.log if predicate(m)]

    async def closed(self, *, within: float = TIMEOUT) -> tuple[int | None, str]:
        """Wait for the server to close the socket; return (code, reason)."""
        try:
            await asyncio.wait_for(asyncio.shield(self._reader), within)
        except TimeoutError:
            raise AssertionError(f"{self.label}: still open after {within} s") from None
        return self.close_code, self.close_reason

    @property
    def is_open(self) -> bool:
        return not self._done

    # ---------------------------------------------------------------- sending

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    async def send(self, message: Message) -> str:
        """Send one message with a fresh ``ref`` (unless it has one); return the ref."""
        ref = str(message.get("ref") or f"r{next(_refs)}")
        await self.ws.send(orjson.dumps({**message, "ref": ref}).decode())
        return ref

    async def request(self, message: Message, *, within: float = TIMEOUT) -> Message:
        """Send with a ref and return the ``ack`` or ``error`` that answers it."""
        ref = await self.send(message)
        return await self.next(
            lambda m: m.get("type") in ("ack", "error") and m.get("ref") == ref, within=within
        )

    async def ack(self, message: Message) -> Message:
        """Send and assert the server acknowledged it."""
        reply = await self.request(message)
        assert reply["type"] == "ack", f"{self.label}: {message} -> {reply}"
        return reply

    async def error(self, message: Message, code: str) -> Message:
        """Send and assert the server refused it with ``code``."""
        reply = await self.request(message)
        assert reply["type"] == "error", f"{self.label}: {message} -> {reply}"
        assert reply["code"] == code, f"{self.label}: {message} -> {reply}"
        assert reply["message"]
        return reply

    async def close(self) -> None:
        """Leave cleanly (close frame 1000) and wait for the reader to finish."""
        await self.ws.close()
        await asyncio.wait([self._reader], timeout=TIMEOUT)

    def drop(self) -> None:
        """Vanish without a close frame, as a crashed tab or a lost network would."""
        self.ws.transport.abort()


async def settle(actor: RoomClient, *others: RoomClient) -> None:
    """Publish one public event from ``actor`` and wait until every client got it.

    Events reach each connection in ``seq`` order, so afterwards every client has received
    everything sequenced before it: a test can then assert what someone did *not* get.
    """
    floor = actor.seq or 0
    await actor.ack({"type": "status.set", "away": False})

    def barrier(m: Message) -> bool:
        return (
            m.get("type") == "participant.status"
            and m.get("user_id") == actor.user_id
            and m.get("seq", 0) > floor
        )

    for client in (actor, *others):
        await client.next(barrier)


async def close_all(clients: Iterable[RoomClient]) -> None:
    """Close every client still open."""
    await asyncio.gather(*(c.close() for c in clients if c.is_open), return_exceptions=True)


class ChatPool:
    """Many connections of one person, to send more chat than one connection's rate allows.

    The chat limit is per connection (burst 10, then 5 per second); the pool rotates
    connections and retries on another one when the server says ``rate-limited``.
    """

    def __init__(self, clients: list[RoomClient]) -> None:
        self.clients = clients
        self._turn = itertools.cycle(clients)

    @classmethod
    async def open(cls, node: NodeLike, person: Person, room_id: str, size: int) -> ChatPool:
        token = await join_token(node, person, room_id)
        clients = [
            await RoomClient.open(node, room_id, token, label=f"pool{i}") for i in range(size)
        ]
        return cls(clients)

    async def say(self, text: str) -> Message:
        """Send one chat message (waiting for its ack); return the ack."""
        for _ in range(len(self.clients) * 3):
            client = next(self._turn)
            reply = await client.request({"type": "chat.send", "text": text})
            if reply["type"] == "ack":
                return reply
            assert reply["code"] == "rate-limited", reply
        raise AssertionError("every pool connection is rate limited")

    async def close(self) -> None:
        await close_all(self.clients)


def random_id() -> str:
    return str(uuid.uuid4())
