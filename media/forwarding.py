"""Fan-out of encoded frames: per-subscriber bounded queues that never drop frames one by one.

A dropped inter frame breaks decoding until the next keyframe, so a full queue is emptied
and refilled from the next keyframe (which the publisher is asked for) instead.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from fractions import Fraction
from typing import Any

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

# One frame's duration in each clock, to keep timestamps moving when a slot changes source.
FRAME_STEP = {90_000: 3000, 48_000: 960}


class FrameQueue:
    """A bounded queue of encoded frames that restarts at a keyframe when it overflows."""

    def __init__(self, capacity: int, *, needs_keyframe: bool, on_gap: Callable[[], None]) -> None:
        self.capacity = capacity
        self.video = needs_keyframe
        self.waiting_keyframe = needs_keyframe
        self.dropped = 0
        # Takes a frame straight to the wire when nothing is queued (see RtpWriter.express).
        self.express: Callable[[av.Packet[Any]], bool] | None = None
        self._on_gap = on_gap
        self._items: deque[av.Packet[Any] | None] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def push(self, packet: av.Packet[Any], keyframe: bool) -> None:
        """Queue a frame; frames before the first keyframe (video) are skipped."""
        if self.waiting_keyframe:
            if not keyframe:
                self.dropped += 1
                self._on_gap()
                return
            self.waiting_keyframe = False
        if len(self._items) >= self.capacity:
            self.dropped += len(self._items) + 1
            self._items.clear()
            self.waiting_keyframe = self.video
            self._on_gap()
            if self.video:
                return
        if not self._items and self.express is not None and self.express(packet):
            return
        self._items.append(packet)
        self._wake()

    def restart(self) -> None:
        """Forget queued frames and wait for the next keyframe (a new or reconnected source)."""
        self._items.clear()
        self.waiting_keyframe = self.video

    def end(self) -> None:
        """No more frames: the reader gets None."""
        self._items.append(None)
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> av.Packet[Any] | None:
        """The next frame, waiting for it; None once ended."""
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    def take_all(self) -> tuple[list[av.Packet[Any]], bool]:
        """Every queued frame, without waiting, and whether the end was reached."""
        items = list(self._items)
        self._items.clear()
        if None in items:
            return [p for p in items[: items.index(None)] if p is not None], True
        return [p for p in items if p is not None], False

    def __len__(self) -> int:
        return len(self._items)


class ForwardTrack(MediaStreamTrack):
    """The track of one subscriber transceiver: frames of whichever source it carries now.

    ``recv`` returns ``av.Packet`` so aiortc's sender packs instead of encoding. The track
    outlives its sources: a transceiver is reused for the next track of its kind.
    """

    def __init__(self, kind: str, capacity: int, on_gap: Callable[[], None]) -> None:
        super().__init__()
        self.kind = kind
        self.queue = FrameQueue(capacity, needs_keyframe=kind == "video", on_gap=on_gap)
        self.forwarded = 0
        self.time_base: Fraction | None = None  # of the source carried now
        self._last_pts: int | None = None
        self._offset: int | None = None

    def restart(self) -> None:
        """A new source (or a reconnect): wait for its keyframe, keep timestamps increasing."""
        self.queue.restart()
        self._offset = None

    async def recv(self) -> av.Packet[Any]:
        """The next frame to pack and send."""
        packet = await self.queue.get()
        if packet is None:
            raise MediaStreamError
        return self.take(packet)

    def take(self, packet: av.Packet[Any]) -> av.Packet[Any]:
        """A frame leaves the track: timestamps shifted to continue the previous source's."""
        pts = int(packet.pts or 0)
        if self._offset is None:
            self.time_base = packet.time_base
            step = FRAME_STEP.get(_rate(self.time_base), 0)
            self._offset = 0 if self._last_pts is None else self._last_pts + step - pts
        if self._offset:
            shifted = av.Packet(bytes(packet))
            shifted.pts = pts + self._offset
            shifted.time_base = packet.time_base
            packet = shifted
        self._last_pts = pts + self._offset
        self.forwarded += 1
        return packet


def _rate(time_base: Fraction | None) -> int:
    return int(1 / time_base) if time_base else 0


class PacketStream:
    """A consumer's view of one published track (recording): an async iterator of packets."""

    def __init__(self, queue: FrameQueue, on_close: Callable[[PacketStream], None]) -> None:
        self.queue = queue
        self._on_close = on_close

    async def __aiter__(self) -> AsyncIterator[av.Packet[Any]]:
        try:
            while (packet := await self.queue.get()) is not None:
                yield packet
        finally:
            self._on_close(self)

    async def batches(self, interval: float) -> AsyncIterator[list[av.Packet[Any]]]:
        """The packets in lists: once the first of a batch is in, wait ``interval`` and take
        everything queued. A consumer that works per batch (captions) then wakes about
        1/``interval`` times a second instead of once a frame (50 times for Opus); the first
        packet of a batch waits ``interval``, the last hardly at all."""
        try:
            while (first := await self.queue.get()) is not None:
                await asyncio.sleep(interval)
                rest, ended = self.queue.take_all()
                yield [first, *rest]
                if ended:
                    return
        finally:
            self._on_close(self)
