"""The life of a server-side peer connection, shared by publishers and subscribers.

A peer connection counts as failed once it fails or closes by itself, or when ICE has not
connected within the configured timeout (aiortc has no ICE restart: the client starts over).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aiortc import RTCPeerConnection

from media.fastpath import demux

logger = logging.getLogger("liveclass.media")


class ConnectionWatch:
    """Calls ``on_failed`` when ``pc`` fails, closes or does not connect within ``timeout``."""

    def __init__(
        self,
        pc: RTCPeerConnection,
        *,
        conn_id: str,
        timeout: float,
        on_failed: Callable[[], None],
        on_connected: Callable[[], None] | None = None,
    ) -> None:
        self.pc = pc
        self.conn_id = conn_id
        self.timeout = timeout
        self.stopped = False
        self._on_failed = on_failed
        self._on_connected = on_connected
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Follow the connection state and arm the ICE timer (once negotiation is under way)."""
        self.pc.on("connectionstatechange", self._state_changed)
        self._timer = asyncio.get_running_loop().call_later(self.timeout, self._timed_out)

    def _state_changed(self) -> None:
        state = self.pc.connectionState
        if state == "connected":
            self._cancel_timer()
            demux.attach(self.pc)
            if self._on_connected is not None:
                self._on_connected()
        elif state in ("failed", "closed") and not self.stopped:
            self._on_failed()

    def _timed_out(self) -> None:
        self._timer = None
        if self.pc.connectionState != "connected" and not self.stopped:
            logger.info("ICE did not complete", extra={"conn_id": self.conn_id})
            self._on_failed()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def close(self) -> None:
        """The owner is done: no more callbacks; close the peer connection (sockets, tasks)."""
        self.stopped = True
        self._cancel_timer()
        with contextlib.suppress(Exception):
            await self.pc.close()
