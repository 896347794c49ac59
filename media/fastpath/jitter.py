"""A jitter buffer for forwarding: a frame leaves the moment it is complete.

aiortc's ``JitterBuffer`` knows a frame is complete only when a packet of the next frame
arrives (one frame interval, ~33 ms of video), and for audio it also prefetches four frames
(~80 ms) for its decoder. An SFU forwards: video frames end at the RTP marker bit, and each
Opus packet is a whole frame. Reordering, NACK recovery and overflow are unchanged: a frame
still waits at the head until its packets are contiguous.
"""

from __future__ import annotations

from collections import deque

from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket


class EagerJitterBuffer(JitterBuffer):
    """aiortc's buffer with eager completion; further complete frames wait in ``ready``.

    aiortc takes one frame per received packet, so when a late packet completes several
    frames at once, the first is returned and the rest are queued for the tap to drain.
    """

    def __init__(self, capacity: int, *, is_video: bool) -> None:
        super().__init__(capacity=capacity, prefetch=0, is_video=is_video)
        self.ready: deque[JitterFrame] = deque()

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        while (frame := self._head_frame()) is not None:
            self.ready.append(frame)
        return self.ready.popleft() if self.ready else None

    def _head_frame(self) -> JitterFrame | None:
        if self._origin is None:
            return None
        packets: list[RtpPacket] = []
        for count in range(self._capacity):
            packet = self._packets[(self._origin + count) % self._capacity]
            if packet is None:
                return None
            if packets and packet.timestamp != packets[0].timestamp:
                return self._take(packets, count)  # the marker was lost: the next frame began
            packets.append(packet)
            if packet.marker or not self._is_video:
                return self._take(packets, count + 1)
        return None

    def _take(self, packets: list[RtpPacket], count: int) -> JitterFrame:
        self.remove(count)
        data = b"".join(p._data for p in packets)  # type: ignore[attr-defined]
        return JitterFrame(data=data, timestamp=packets[0].timestamp)
