"""The room set-up of a room test: create a room, invite its members, connect some.

``open_room`` (tests/conftest.py) is a ``RoomOpener`` on the shared room node; ``rooms_on``
gives openers on any node (a module's own node, either database, each node of a cluster).
Every client an opener connected is closed when the test ends, passed or failed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kits.rooms import (
    ChatPool,
    NodeLike,
    Person,
    RoomClient,
    close_all,
    create_room,
    invite,
    join_token,
)


class RoomOpener:
    """Room set-up on one node; clients are kept in ``clients`` (shared by ``on``)."""

    def __init__(self, node: NodeLike, clients: list[RoomClient] | None = None) -> None:
        self.node = node
        self.clients: list[RoomClient] = [] if clients is None else clients
        self._pools: list[ChatPool] = []

    def on(self, node: NodeLike) -> RoomOpener:
        """The same set-up on another node; its clients close with this opener's."""
        other = RoomOpener(node, self.clients)
        other._pools = self._pools
        return other

    async def __call__(
        self,
        host: Person,
        *,
        members: Iterable[tuple[Person, str]] = (),
        enter: Iterable[Person] = (),
        **settings: Any,
    ) -> tuple[str, list[RoomClient]]:
        """A room hosted by ``host`` with ``members`` invited (person, room role: observers
        too) and a connected client for each of ``enter``, in order; return the room id and
        the clients. ``settings`` go to the room (``open=True``, ``lobby=True``...)."""
        room_id = await self.room(host, members=members, **settings)
        clients = [await self.enter(person, room_id) for person in enter]
        return room_id, clients

    async def room(
        self, host: Person, *, members: Iterable[tuple[Person, str]] = (), **settings: Any
    ) -> str:
        """Create the room and invite ``members``, connecting nobody; return its id."""
        room_id = await create_room(self.node, host, **settings)
        for person, role in members:
            await invite(self.node, host, room_id, person, role)
        return room_id

    async def enter(self, person: Person, room_id: str, **options: Any) -> RoomClient:
        """Get a join token for ``person`` and connect (``RoomClient.enter``)."""
        return self.keep(await RoomClient.enter(self.node, person, room_id, **options))

    async def open(self, room_id: str, token: str, **options: Any) -> RoomClient:
        """Connect with a given join token (``RoomClient.open``: a position, no welcome...)."""
        return self.keep(await RoomClient.open(self.node, room_id, token, **options))

    async def token(self, person: Person, room_id: str) -> str:
        """A join token for ``person`` (asserting the server grants one)."""
        return await join_token(self.node, person, room_id)

    async def pool(self, person: Person, room_id: str, size: int) -> ChatPool:
        """``size`` connections of ``person`` for chat floods (``ChatPool``)."""
        pool = await ChatPool.open(self.node, person, room_id, size)
        self._pools.append(pool)
        return pool

    def keep(self, client: RoomClient) -> RoomClient:
        """Close ``client`` with the others at the end of the test."""
        self.clients.append(client)
        return client

    async def close(self) -> None:
        """Close every client this opener (and those made by ``on``) connected."""
        await close_all([*self.clients, *(c for p in self._pools for c in p.clients)])


class RoomOpeners:
    """``rooms_on(node)``: a ``RoomOpener`` on ``node``; all of them close together."""

    def __init__(self) -> None:
        self._root: RoomOpener | None = None

    def __call__(self, node: NodeLike) -> RoomOpener:
        if self._root is None:
            self._root = RoomOpener(node)
            return self._root
        return self._root.on(node)

    async def close(self) -> None:
        if self._root is not None:
            await self._root.close()
