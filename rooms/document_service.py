"""The collaborative-documents side of a node, assembled: store, registry, access, endpoint.

Documents travel on a `Hub` of their own (their frames are raw y-websocket bytes, not room
events) over a broker of their own: the in-memory one keeps no history, since Yjs sync
recovers by itself. A Redis broker drops in here unchanged, one channel `docs:{name}` per
document; nodes then apply each other's updates (`DocumentRegistry.observe`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence.documents import DocumentStore
from persistence.group_commit import GroupCommitter
from realtime.broker import Broker
from realtime.hub import Hub
from realtime.memory_broker import InMemoryBroker
from realtime.yjs.channel import Authorize, DocumentAccess, YjsEndpoint
from realtime.yjs.limits import DocumentLimits
from realtime.yjs.registry import DocumentRegistry
from realtime.yjs.yrs import DocumentPolicy
from rooms.document_shapes import structure_policy
from rooms.documents import RoomDocumentPolicy
from rooms.revocation import Target
from rooms.tokens import Admit


@dataclass(frozen=True)
class DocumentFamily:
    """Documents named under `prefix` that another domain owns (course pages): who may open
    them, and what their updates may hold."""

    prefix: str
    authorize: Authorize
    policy: DocumentPolicy | None
    target: Target | None = None  # closes its connections on the revocation signal


@dataclass
class DocumentService:
    """Everything the Yjs channel and the documents REST API need on one node."""

    broker: Broker
    hub: Hub
    store: DocumentStore
    registry: DocumentRegistry
    policy: RoomDocumentPolicy
    endpoint: YjsEndpoint
    owns_broker: bool = True
    families: Sequence[DocumentFamily] = ()

    async def drain(self) -> None:
        """Close Yjs connections with 1001 and finish pending writes."""
        await self.registry.drain()

    async def close(self) -> None:
        """Drop subscriptions, and the broker if it is this service's own."""
        await self.registry.drain()
        await self.hub.close()
        if self.owns_broker:
            await self.broker.close()

    def revocation_targets(self) -> list[Target]:
        """What holds this node's document connections, for the revocation signal."""
        return [self.policy, *(f.target for f in self.families if f.target is not None)]

    def gauges(self) -> dict[str, float]:
        """Figures for /metrics."""
        return self.registry.gauges() | {"quarantined_total": float(self.store.quarantined)}


def build_documents(
    *,
    rooms_hub: Hub,
    committer: GroupCommitter,
    sessionmaker: async_sessionmaker[AsyncSession],
    node_id: str,
    secret: Callable[[], str],
    admit: Admit,
    limits: DocumentLimits,
    broker: Broker | None = None,
    read_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    families: Sequence[DocumentFamily] = (),
) -> DocumentService:
    """Wire the documents side; `rooms_hub` is followed for locks, roles and room ends, and
    `admit` checks each connection's holder as the room channel does. Documents named under
    a `families` prefix get that family's access rule and update policy instead."""
    owned = broker is None
    broker = broker or InMemoryBroker(history_size=0)
    hub = Hub(broker)
    store = DocumentStore(committer, sessionmaker, readers=read_sessionmaker)

    def family(name: str) -> DocumentFamily | None:
        return next((f for f in families if name.startswith(f.prefix)), None)

    def policy_of(name: str) -> DocumentPolicy | None:
        owner = family(name)
        return owner.policy if owner is not None else structure_policy(name)

    registry = DocumentRegistry(
        hub=hub, log=store, node_id=node_id, limits=limits, policy_of=policy_of
    )
    policy = RoomDocumentPolicy(
        hub=rooms_hub, sessionmaker=sessionmaker, secret=secret, admit=admit
    )

    async def authorize(token: str, name: str) -> DocumentAccess:
        owner = family(name)
        return await (owner.authorize if owner is not None else policy.authorize)(token, name)

    endpoint = YjsEndpoint(registry, authorize=authorize, limits=limits)
    return DocumentService(
        broker, hub, store, registry, policy, endpoint, owns_broker=owned, families=families
    )
