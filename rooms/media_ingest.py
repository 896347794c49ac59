"""WHIP ingest in a cluster: published and ended on the room's media owner, whichever node
took the HTTP request. The owner records each ingest (room, user, node) in Redis for one
lease and rewrites the record every heartbeat while it lives, so a ``DELETE`` reaching any
node finds the node to relay it to.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from media.placement_store import PlacementUnavailable
from media.relay import EndExternal, PublishExternal
from media.relay_bus import RelayTimeout, RelayUnreachable
from media.whip import WhipSession, conn_id_of, decode_record, encode_record

if TYPE_CHECKING:
    from rooms.media_cluster import MediaCluster

logger = logging.getLogger("liveclass.media")


class Ingests:
    """The WHIP side of a node's ``MediaCluster``: relaying, and the records of ingests
    whose publisher this node serves."""

    def __init__(self, cluster: MediaCluster) -> None:
        self.cluster = cluster
        self.served: dict[str, tuple[str, bytes]] = {}  # conn_id -> (room_id, record)

    async def publish(self, op: PublishExternal) -> dict[str, Any]:
        """Publish a WHIP offer on the room's owner (placed as a room-channel publish is):
        the answer is the owner's, so the broadcaster streams to the owner's address."""
        owner = await self.cluster.owner_of(op)
        if owner == self.cluster.node_id:
            return await self.serve(op)
        return await self.cluster.request(owner, op)

    async def find(self, room_id: str, session_id: str) -> WhipSession | None:
        """A WHIP session of ``room_id`` and the node serving it, whichever node that is."""
        conn_id = conn_id_of(session_id)
        try:
            raw = await self.cluster.store.ingest(conn_id)
        except PlacementUnavailable:
            raw = self.served[conn_id][1] if conn_id in self.served else None
        found = decode_record(session_id, raw) if raw is not None else None
        return found if found is not None and found.room_id == room_id else None

    async def end(self, op: EndExternal, node: str) -> None:
        """End a WHIP publisher on ``node``, the one serving it (see ``find``)."""
        if node in ("", self.cluster.node_id):
            await self.serve(op)
            return
        try:
            await self.cluster.request(node, op)
        except (RelayUnreachable, RelayTimeout) as exc:
            # The node is gone, and the publisher with it; failover announces its tracks.
            logger.info("WHIP end not relayed: %s", exc.message)
            await self._drop(op.conn_id)

    async def serve(self, op: PublishExternal | EndExternal) -> dict[str, Any]:
        """Run an ingest operation on this node's SFU and keep its record in step."""
        result = await self.cluster.signalling.local(op)
        if isinstance(op, EndExternal):
            self.served.pop(op.conn_id, None)
            await self._drop(op.conn_id)
            return result
        record = encode_record(op.room_id, op.user_id, self.cluster.node_id)
        self.served[op.conn_id] = (op.room_id, record)
        try:
            await self.cluster.store.save_ingest(op.conn_id, record)
        except PlacementUnavailable as exc:  # written again at the next heartbeat
            logger.warning("WHIP session not recorded: %s", exc)
        return result

    async def refresh(self) -> None:
        """Heartbeat: rewrite the records of the publishers still here, drop the others."""
        sfu = self.cluster.signalling.sfu
        for conn_id, (room_id, record) in list(self.served.items()):
            media_room = sfu.room(room_id)
            if media_room is not None and conn_id in media_room.publishers:
                await self.cluster.store.save_ingest(conn_id, record)
            else:
                del self.served[conn_id]
                await self.cluster.store.drop_ingest(conn_id)

    async def forget_all(self) -> None:
        """Graceful shutdown: the publishers close with the SFU, so do their records."""
        for conn_id in list(self.served):
            await self.cluster.store.drop_ingest(conn_id)
        self.served.clear()

    async def _drop(self, conn_id: str) -> None:
        try:
            await self.cluster.store.drop_ingest(conn_id)
        except PlacementUnavailable as exc:  # it expires with its lease
            logger.warning("WHIP session record not deleted: %s", exc)
