"""Media placement (pure): which node a room's media lives on, and when to give it up.

With several nodes, each room's SFU lives on one node: chosen by load when the room's media
starts, recorded in Redis under a lease the owner refreshes. Nodes register their load with a
TTL; a node missing from that registry (and from its relay channel) is dead, and the rooms it
owned fail over. The Redis side is ``media/placement_store.py``; this module only decides.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import orjson

PREFIX = "liveclass:media"
REGISTRY = "media-nodes"  # the presence channel nodes register in


def room_key(room_id: str) -> str:
    """The Redis key naming the node that owns a room's media (value: node id)."""
    return f"{PREFIX}:room:{room_id}"


def failover_key(room_id: str, dead: str) -> str:
    """Taken (SET NX) by the one node that cleans up after ``dead`` lost ``room_id``."""
    return f"{PREFIX}:failover:{room_id}:{dead}"


def relay_channel(node_id: str) -> str:
    """The pub/sub channel a node reads relayed requests, replies and deliveries on."""
    return f"{PREFIX}:relay:{node_id}"


@dataclass(frozen=True)
class Timing:
    """Registry TTL and what follows from it: heartbeat interval and owner lease."""

    ttl: float

    @property
    def interval(self) -> float:
        """Heartbeat, lease refresh and watch period: three chances per TTL."""
        return self.ttl / 3

    @property
    def lease(self) -> float:
        """A placement outlives a dead owner's registry entry, so failover (which deletes
        it) runs before the lease could lapse on its own."""
        return self.ttl * 3


@dataclass(frozen=True)
class NodeLoad:
    """One registered node: its media load and relative capacity (0: never an owner)."""

    node_id: str
    load: float
    capacity: float = 1.0

    @property
    def score(self) -> float:
        """The load share this node would have with one more room: lower wins."""
        return (self.load + 1) / self.capacity

    def encode(self) -> bytes:
        """The registry entry (the node id is the entry's name)."""
        return orjson.dumps({"load": self.load, "capacity": self.capacity})


def decode_load(node_id: str, raw: bytes) -> NodeLoad | None:
    """A registry entry, or None if it is not one (never trusted blindly)."""
    try:
        found = orjson.loads(raw)
        load, capacity = float(found["load"]), float(found["capacity"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    if load < 0 or capacity < 0 or load != load or capacity != capacity:  # NaN
        return None
    return NodeLoad(node_id, load, capacity)


def load_of(gauges: Mapping[str, float]) -> float:
    """A node's media load from its SFU gauges: peer connections plus forwarded tracks."""
    return gauges.get("peer_connections", 0.0) + gauges.get("forwarding", 0.0)


def _tie_break(room_id: str, node_id: str) -> bytes:
    # Rendezvous hashing: equally loaded nodes split new rooms evenly, deterministically.
    return hashlib.blake2b(f"{room_id}\0{node_id}".encode(), digest_size=8).digest()


def choose(room_id: str, nodes: Iterable[NodeLoad]) -> str | None:
    """The node to own ``room_id``'s media: the lowest score; None if no node may own it."""
    eligible = [n for n in nodes if n.capacity > 0]
    if not eligible:
        return None
    return min(eligible, key=lambda n: (n.score, _tie_break(room_id, n.node_id))).node_id


def plan_leases(owned: Iterable[str], active: Iterable[str]) -> tuple[list[str], list[str]]:
    """Which room leases an owner refreshes (media still here) and releases (gone)."""
    active_set, owned_set = set(active), set(owned)
    return sorted(active_set), sorted(owned_set - active_set)


def is_dead(node_id: str, registered: Iterable[str], subscribers: int) -> bool:
    """A node is dead when its registry entry expired and nothing reads its relay channel
    (both: a late heartbeat alone, e.g. right after a Redis restart, is not death)."""
    return node_id not in set(registered) and subscribers == 0


def lost_owners(
    sessions: Iterable[tuple[str, str]], registered: Iterable[str], self_id: str
) -> list[tuple[str, str]]:
    """``(room_id, owner)`` pairs whose owner left the registry (candidates for failover)."""
    alive = set(registered) | {self_id}
    return sorted({(room, owner) for room, owner in sessions if owner not in alive})
