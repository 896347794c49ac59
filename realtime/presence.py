"""Presence: who is connected to a channel, on any node, kept alive by heartbeats.

Each node adds its connections with a time to live and refreshes them; a crashed node's
entries expire, so every node can tell which connections are gone. ``InMemoryPresence`` is
for one node; ``RedisPresence`` (realtime.redis_presence) shares entries across nodes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable


@runtime_checkable
class Presence(Protocol):
    """Connections per channel with an opaque ``info`` each, expiring unless refreshed."""

    async def add(self, channel: str, client: str, info: bytes, *, ttl: float) -> None:
        """Insert or refresh ``client`` in ``channel`` for ``ttl`` seconds."""
        ...

    async def remove(self, channel: str, client: str) -> None:
        """Forget ``client`` (it left cleanly)."""
        ...

    async def members(self, channel: str) -> dict[str, bytes]:
        """The unexpired clients of ``channel`` with their info."""
        ...

    async def close(self) -> None:
        """Release resources."""
        ...


class InMemoryPresence:
    """Presence for a single node."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._channels: dict[str, dict[str, tuple[bytes, float]]] = {}

    async def add(self, channel: str, client: str, info: bytes, *, ttl: float) -> None:
        """Insert or refresh ``client`` in ``channel`` for ``ttl`` seconds."""
        self._channels.setdefault(channel, {})[client] = (info, self._clock() + ttl)

    async def remove(self, channel: str, client: str) -> None:
        """Forget ``client``."""
        entries = self._channels.get(channel)
        if entries is not None:
            entries.pop(client, None)
            if not entries:
                del self._channels[channel]

    async def members(self, channel: str) -> dict[str, bytes]:
        """The unexpired clients of ``channel``; expired ones are dropped on the way."""
        entries = self._channels.get(channel, {})
        now = self._clock()
        for client in [c for c, (_, expires) in entries.items() if expires <= now]:
            del entries[client]
        return {client: info for client, (info, _) in entries.items()}

    async def close(self) -> None:
        """Forget everything."""
        self._channels.clear()
