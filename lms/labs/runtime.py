"""The labs' live parts on one node: signals (lock, share, broadcast, queue, grid changes),
the workspace documents' access policy (a document family of the Yjs channel) and the
feed endpoint with its grids. Built before the documents (the family) and attached to the
document registry after."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lms.labs import workspace_docs
from lms.labs.access import LabDocumentPolicy
from lms.labs.feed import LabFeeds
from lms.labs.signals import LabSignals
from realtime.broker import Broker
from realtime.errors import RealtimeError
from realtime.yjs.registry import DocumentRegistry


class LabsRuntime:
    """What the labs routes and channels use on this node."""

    def __init__(
        self,
        broker: Broker,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        secret: Callable[[], str],
        send_queue_bytes: int = 1 << 20,
    ) -> None:
        self.signals = LabSignals(broker)
        self.sessions = sessionmaker
        self.secret = secret
        self.send_queue_bytes = send_queue_bytes
        self.policy = LabDocumentPolicy(
            sessionmaker=sessionmaker, secret=secret, lab_signals=self.signals
        )
        self._feeds: LabFeeds | None = None

    prefix = workspace_docs.PREFIX

    def attach(self, registry: DocumentRegistry) -> None:
        """Give the runtime the node's document registry (the grids read workspaces)."""
        self._feeds = LabFeeds(
            registry=registry,
            sessions=self.sessions,
            secret=self.secret,
            lab_signals=self.signals,
            send_queue_bytes=self.send_queue_bytes,
        )

    @property
    def feeds(self) -> LabFeeds:
        """The feed endpoint (after `attach`)."""
        assert self._feeds is not None, "LabsRuntime.attach was not called"
        return self._feeds

    @property
    def registry(self) -> DocumentRegistry:
        """The node's document registry."""
        return self.feeds.registry

    async def send(
        self, lab_id: uuid.UUID, message: dict[str, Any], *, staff: bool = False
    ) -> None:
        """Send a lab signal (after the change committed)."""
        await self.signals.send(lab_id, message, staff=staff)

    async def changed(self, lab_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """Tell the grids a learner's progress, check or help request changed."""
        await self.signals.send(lab_id, {"type": "changed", "user_id": str(user_id)}, staff=True)

    def revoke(self, user_id: str, scopes: frozenset[str] | None, error: RealtimeError) -> int:
        """The revocation signal: close the person's lab feeds (documents: the policy)."""
        return self.feeds.revoke(user_id, scopes, error) if self._feeds is not None else 0

    async def close(self) -> None:
        """Stop the feeds and grids, drop the subscriptions."""
        if self._feeds is not None:
            await self._feeds.close()
        await self.signals.close()
