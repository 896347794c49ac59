"""A lab's live signals between nodes: one broker channel `labs:{lab_id}` that everyone in
the lab follows (lock, broadcast, share, queue) and one `labs:{lab_id}:staff` for the
instructors' grid (a learner's progress, checks, help requests changed).

The database is the source of truth: a signal is sent after the change committed and only
says what changed, so a socket that missed one catches up by reading the lab again.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from realtime.broker import Broker
from realtime.errors import BrokerUnavailableError
from realtime.hub import Hub

logger = logging.getLogger("liveclass.labs")


def channel(lab_id: uuid.UUID | str) -> str:
    """Everyone in the lab: lock, broadcast, share, queue."""
    return f"labs:{lab_id}"


def staff_channel(lab_id: uuid.UUID | str) -> str:
    """The lab's instructors and TAs: a learner's state changed."""
    return f"labs:{lab_id}:staff"


class LabSignals:
    """The node's hub for lab channels (the node's broker: across nodes over Redis)."""

    def __init__(self, broker: Broker) -> None:
        self.hub = Hub(broker)

    async def send(
        self, lab_id: uuid.UUID, message: dict[str, Any], *, staff: bool = False
    ) -> None:
        """Publish one signal (JSON) once; without the broker, to this node's sockets only."""
        name = staff_channel(lab_id) if staff else channel(lab_id)
        payload = json.dumps(message, separators=(",", ":"), default=str).encode()
        try:
            await self.hub.publish(name, payload)
        except BrokerUnavailableError:
            logger.warning("broker unavailable: lab signal served to this node only")
            self.hub.broadcast_local(name, payload)

    async def close(self) -> None:
        """Drop the subscriptions."""
        await self.hub.close()
