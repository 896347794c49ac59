"""The receive-side tap: aiortc hands encoded frames to the SFU instead of a decoder.

aiortc 1.16's ``RTCRtpReceiver`` keeps jitter buffer, NACK, RTX and RTCP on the event loop
and puts each complete encoded frame on ``__decoder_queue`` for a decoder thread running
the module-level ``decoder_worker``. For the SFU's own receivers the queue is replaced by
a ``FrameTap`` whose ``put`` hands frames over synchronously, and the wrapped worker
returns at once for such queues. Every other receiver in the process still decodes.
Each private name used here is asserted by ``check_internals`` and by the unit tests.
"""

from __future__ import annotations

import inspect
import queue
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import RTCRtpReceiver, RTCRtpSender, rtcrtpreceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpreceiver import TimestampMapper
from aiortc.rtp import RtpPacket

from media.fastpath.jitter import EagerJitterBuffer
from ops import internals

QUEUE_ATTR = "_RTCRtpReceiver__decoder_queue"
JITTER_ATTR = "_RTCRtpReceiver__jitter_buffer"
MAPPER_ATTR = "_RTCRtpReceiver__timestamp_mapper"
STARTED_ATTR = "_RTCRtpReceiver__started"
PRIVATE = (QUEUE_ATTR, JITTER_ATTR, MAPPER_ATTR, STARTED_ATTR)
FrameSink = Callable[[RTCRtpCodecParameters, JitterFrame], None]
PacketHook = Callable[[RtpPacket], None]

# Process-wide counts: a test (and /metrics) proves the SFU never starts a decoder.
COUNTS = {"decoders_started": 0, "decoders_skipped": 0}
_original_worker: Callable[..., None] | None = None


class FrameTap(queue.Queue[Any]):
    """Stands in for a receiver's decoder queue: frames go to ``sink``, ``None`` to ``on_end``."""

    def __init__(
        self,
        sink: FrameSink,
        on_end: Callable[[], None],
        *,
        backlog: deque[JitterFrame] | None = None,
        mapper: TimestampMapper | None = None,
    ) -> None:
        super().__init__()
        self._sink = sink
        self._on_end = on_end
        self._backlog = backlog if backlog is not None else deque()
        self._mapper = mapper
        self.ended = False

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        """Called by aiortc on the event loop: a ``(codec, frame)`` or the end (None)."""
        if item is None:
            if not self.ended:
                self.ended = True
                self._on_end()
            return
        if not self.ended:
            codec, frame = item
            self._sink(codec, frame)
            while self._backlog and self._mapper is not None and not self.ended:
                more = self._backlog.popleft()  # frames a late packet completed as well
                more.timestamp = self._mapper.map(more.timestamp)
                self._sink(codec, more)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """Never blocks: should an unwrapped decoder worker ever read it, it ends at once."""
        return None


def _worker(
    loop: Any, input_q: queue.Queue[Any], output_q: Any, decode_error: threading.Event
) -> None:
    if isinstance(input_q, FrameTap):
        COUNTS["decoders_skipped"] += 1
        return
    COUNTS["decoders_started"] += 1
    assert _original_worker is not None
    _original_worker(loop, input_q, output_q, decode_error)


def install() -> None:
    """Wrap aiortc's decoder worker once (idempotent); other receivers are unaffected."""
    global _original_worker
    if _original_worker is None:
        check_internals()  # reads aiortc's source: once per process, not per publisher
        _original_worker = rtcrtpreceiver.decoder_worker
        rtcrtpreceiver.decoder_worker = _worker


def check_internals() -> None:
    """Fail loudly if the aiortc internals this module relies on have changed."""
    params = list(inspect.signature(rtcrtpreceiver.decoder_worker).parameters)
    if params != ["loop", "input_q", "output_q", "decode_error"]:
        raise RuntimeError(f"aiortc decoder_worker changed: {params}")
    for cls, name in (
        (RTCRtpReceiver, "_handle_rtp_packet"),
        (RTCRtpReceiver, "_send_rtcp_pli"),
        (RTCRtpSender, "_send_keyframe"),
    ):
        if not callable(getattr(cls, name, None)):
            raise RuntimeError(f"aiortc {cls.__name__}.{name} is gone")
    probe = JitterBuffer(capacity=4, prefetch=0, is_video=True)
    internals.require_attributes(probe, ("_origin", "_packets", "_capacity", "_is_video", "remove"))
    internals.require_source(
        RTCRtpReceiver,
        (
            "self.__decoder_queue.put((codec, encoded_frame))",
            "target=decoder_worker",
            "self.__jitter_buffer.add(packet)",
            "self.__timestamp_mapper.map(",
        ),
    )


def check_receiver(receiver: RTCRtpReceiver) -> None:
    """Fail loudly if a new aiortc receiver lacks what ``tap_receiver`` replaces."""
    internals.require_attributes(receiver, PRIVATE)
    if getattr(receiver, STARTED_ATTR) is not False:
        raise RuntimeError("aiortc RTCRtpReceiver starts before it is negotiated")


def tap_receiver(receiver: RTCRtpReceiver, sink: FrameSink, on_end: Callable[[], None]) -> None:
    """Route ``receiver``'s encoded frames to ``sink``; must run before it starts receiving."""
    install()
    private = (QUEUE_ATTR, JITTER_ATTR, MAPPER_ATTR)
    if not all(hasattr(receiver, a) for a in private) or getattr(receiver, STARTED_ATTR, True):
        raise RuntimeError("receiver already started or aiortc internals changed")
    stock: JitterBuffer = getattr(receiver, JITTER_ATTR)
    jitter = EagerJitterBuffer(stock.capacity, is_video=stock._is_video)
    setattr(receiver, JITTER_ATTR, jitter)
    mapper = getattr(receiver, MAPPER_ATTR)
    setattr(receiver, QUEUE_ATTR, FrameTap(sink, on_end, backlog=jitter.ready, mapper=mapper))


def tapped(receiver: RTCRtpReceiver) -> bool:
    """Whether ``receiver`` is one of the SFU's pass-through receivers."""
    return isinstance(getattr(receiver, QUEUE_ATTR, None), FrameTap)


def hook_rtp(receiver: RTCRtpReceiver, hook: PacketHook) -> None:
    """Call ``hook(packet)`` for each RTP packet before aiortc handles it (this receiver only)."""
    original: Callable[[RtpPacket, int], Awaitable[None]] = receiver._handle_rtp_packet

    async def handle(packet: RtpPacket, arrival_time_ms: int) -> None:
        hook(packet)
        await original(packet, arrival_time_ms)

    receiver._handle_rtp_packet = handle  # type: ignore[method-assign]


def bridge_keyframe_requests(sender: RTCRtpSender, request: Callable[[], None]) -> None:
    """Send a subscriber's PLI/FIR on to ``request`` (aiortc would only set an unused flag)."""
    sender._send_keyframe = request  # type: ignore[method-assign]


async def send_pli(receiver: RTCRtpReceiver, media_ssrc: int) -> None:
    """Ask the publisher behind ``receiver`` for a keyframe (RTCP PLI)."""
    await receiver._send_rtcp_pli(media_ssrc)
