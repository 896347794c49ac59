"""The send loop of a subscriber's sender: forwarded frames out as RTP with little per-packet work.

aiortc's ``RTCRtpSender._run_rtp`` packs each frame again for each sender, builds an
``RtpPacket`` object per packet with its header extensions serialized anew, and reads
the clock twice per packet. For the SFU's senders it is replaced by ``RtpWriter.run``:
payloads come from ``media.fastpath.payloads`` (built once per frame for every subscriber) and the
header extensions once per frame; the frame's packets are then laid out, protected and
sent in one native call (``Stream.send_frame``, ``media.fastpath.srtp_send``) or, where that cannot
be used (TURN, no compiled extension), built with one ``struct.pack`` each
(``Stream.packets_of``, the same bytes) and sent through aiortc's transport one by one.
What aiortc's RTCP and retransmission rely on is kept: the sender report counters, the
history NACKs are answered from (aiortc's own ``_retransmit``), and the start/exit events
``stop()`` waits for. Each private name is asserted by ``check_internals``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from fractions import Fraction
from struct import Struct
from typing import Any

import av
from aiortc import RTCRtpSender, rtcrtpsender
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import HeaderExtensions, HeaderExtensionsMap, RtpPacket
from aiortc.utils import random16, random32

from media.fastpath import payloads, srtp_send
from media.forwarding import ForwardTrack
from ops import internals

logger = logging.getLogger("liveclass.media")

HISTORY_SIZE = 128  # aiortc's RTP_HISTORY_SIZE: how far back a NACK can reach
HEADER = Struct("!BBHLL")
EXTENSION_HEADER = Struct("!HH")
NTP_OFFSET = 2_208_988_800  # seconds from 1900 (NTP) to 1970 (Unix)

# The sender's private attributes this loop reads and keeps up to date.
TRACK = "_RTCRtpSender__track"
MID = "_RTCRtpSender__mid"
EXTENSIONS = "_RTCRtpSender__rtp_header_extensions_map"
HISTORY = "_RTCRtpSender__rtp_history"
STARTED = "_RTCRtpSender__rtp_started"
EXITED = "_RTCRtpSender__rtp_exited"
NTP_TIMESTAMP = "_RTCRtpSender__ntp_timestamp"
RTP_TIMESTAMP = "_RTCRtpSender__rtp_timestamp"
OCTETS = "_RTCRtpSender__octet_count"
PACKETS = "_RTCRtpSender__packet_count"
PRIVATE = (TRACK, MID, EXTENSIONS, HISTORY, STARTED, EXITED)
COUNTERS = (NTP_TIMESTAMP, RTP_TIMESTAMP, OCTETS, PACKETS)


class History:
    """The last packets sent, as bytes; aiortc's ``_retransmit`` gets them back as packets."""

    def __init__(self, extensions: HeaderExtensionsMap) -> None:
        self._extensions = extensions
        self.slots: list[bytes | None] = [None] * HISTORY_SIZE  # the native path fills it too

    def store(self, sequence_number: int, data: bytes) -> None:
        """Remember a packet (overwrites the one 128 sequence numbers back)."""
        self.slots[sequence_number % HISTORY_SIZE] = data

    def get(self, slot: int) -> RtpPacket | None:
        """The packet in ``slot`` (sequence number modulo 128), parsed on demand."""
        data = self.slots[slot]
        return None if data is None else RtpPacket.parse(data, self._extensions)


class ExtensionBlock:
    """A sender's header extension block (mid, abs-send-time) as aiortc serializes it.

    Built once from aiortc's own serializer; per frame only the 3 abs-send-time bytes change.
    """

    def __init__(self, extensions: HeaderExtensionsMap, mid: str | None) -> None:
        self._extensions = extensions
        self._mid = mid
        self._template = self.serialize(0)
        probe = self.serialize(0xFFFFFF)
        diff = [i for i, (a, b) in enumerate(zip(self._template, probe, strict=True)) if a != b]
        self._at = diff[0] if diff else -1

    def serialize(self, abs_send_time: int) -> bytes:
        """aiortc's serialization (the slow, authoritative way)."""
        fields = HeaderExtensions(mid=self._mid, abs_send_time=abs_send_time)
        profile, value = self._extensions.set(fields)
        if not value:
            return b""
        return EXTENSION_HEADER.pack(profile, len(value) >> 2) + value

    def at(self, abs_send_time: int) -> bytes:
        """The block carrying ``abs_send_time`` (24 bits)."""
        if self._at < 0:
            return self._template
        at = self._at
        return self._template[:at] + abs_send_time.to_bytes(3, "big") + self._template[at + 3 :]


def ntp_now() -> int:
    """The wall clock as a 64-bit NTP timestamp (what aiortc's clock gives, without datetime)."""
    now = time.time()
    seconds = int(now)
    return ((seconds + NTP_OFFSET) << 32) | int((now - seconds) * 4294967296)


def first_byte(block: bytes) -> int:
    """An RTP header's first byte: version 2, and the X bit when an extension block follows."""
    return 0x90 if block else 0x80


def rtp_packets(
    chunks: list[bytes], payload_type: int, sequence: int, timestamp: int, ssrc: int, block: bytes
) -> list[bytes]:
    """One frame's RTP packets: consecutive sequence numbers, the marker on the last."""
    first = first_byte(block)
    last = len(chunks) - 1
    return [
        HEADER.pack(
            first,
            (0x80 if i == last else 0) | payload_type,
            (sequence + i) & 0xFFFF,
            timestamp,
            ssrc,
        )
        + block
        + chunk
        for i, chunk in enumerate(chunks)
    ]


class Stream:
    """One sender's RTP stream state: sequence numbers, timestamps, history, counters."""

    def __init__(self, sender: RTCRtpSender, codec: RTCRtpCodecParameters) -> None:
        self.sender = sender
        self.packetize = payloads.for_codec(codec)
        extensions: HeaderExtensionsMap = getattr(sender, EXTENSIONS)
        self.history = History(extensions)
        self.blocks = ExtensionBlock(extensions, getattr(sender, MID))
        self.router = srtp_send.Router()
        self.ssrc = sender._ssrc
        self.payload_type = int(codec.payloadType or 0)
        self.sequence = random16()
        self.origin = random32()
        self.octets = self.packets = 0
        setattr(sender, HISTORY, self.history)

    def packets_of(self, frame: av.Packet[Any], time_base: Fraction | None) -> list[bytes]:
        """The frame's RTP packets, remembered for NACKs and counted for sender reports."""
        chunks = self.packetize(frame)
        if not chunks:
            return []
        timestamp, ntp, block = self._stamp(frame, time_base)
        sequence = self.sequence
        outgoing = rtp_packets(chunks, self.payload_type, sequence, timestamp, self.ssrc, block)
        store = self.history.store
        for data in outgoing:
            store(sequence, data)
            sequence = (sequence + 1) & 0xFFFF
        self._advance(chunks, timestamp, ntp)
        return outgoing

    def send_frame(
        self, route: srtp_send.Route, frame: av.Packet[Any], time_base: Fraction | None
    ) -> bool:
        """``packets_of`` and the send in one native call (the same bytes); False: no packets."""
        chunks = self.packetize(frame)
        if not chunks:
            return False
        timestamp, ntp, block = self._stamp(frame, time_base)
        first = first_byte(block)
        header = HEADER.pack(first, self.payload_type, self.sequence, timestamp, self.ssrc)
        route.send_frame(header, block, chunks, self.history.slots)
        self._advance(chunks, timestamp, ntp)
        return True

    def _stamp(self, frame: av.Packet[Any], time_base: Fraction | None) -> tuple[int, int, bytes]:
        """The frame's RTP timestamp, the wall clock now (NTP) and the extension block."""
        pts = int(frame.pts or 0)
        clock = self.packetize.clock_rate
        timestamp = (self.origin + payloads.rtp_timestamp(pts, time_base, clock)) & 0xFFFFFFFF
        ntp = ntp_now()
        return timestamp, ntp, self.blocks.at((ntp >> 14) & 0x00FFFFFF)

    def _advance(self, chunks: list[bytes], timestamp: int, ntp: int) -> None:
        """Count a sent frame for the next sender report and move the sequence on."""
        self.sequence = (self.sequence + len(chunks)) & 0xFFFF
        self.octets += sum(map(len, chunks))
        self.packets += len(chunks)
        sender = self.sender
        setattr(sender, NTP_TIMESTAMP, ntp)
        setattr(sender, RTP_TIMESTAMP, timestamp)
        setattr(sender, OCTETS, self.octets)
        setattr(sender, PACKETS, self.packets)


class RtpWriter:
    """Sends one subscriber sender's forwarded frames (runs in place of ``_run_rtp``).

    A frame normally goes out synchronously, from the publisher's receive callback
    (``express``), when the native route is usable and nothing is queued before it; the
    loop handles the rest (aiortc's send path, a backlog) in order.
    """

    def __init__(self, sender: RTCRtpSender) -> None:
        self.sender = sender
        self._stream: Stream | None = None
        self._busy = False

    def install(self) -> None:
        """Take over the sender's RTP loop; call before negotiation starts it."""
        self.sender._run_rtp = self.run  # type: ignore[method-assign]

    async def run(self, codec: RTCRtpCodecParameters) -> None:
        """Forward frames until the track ends, the transport closes or the task is cancelled."""
        sender = self.sender
        getattr(sender, STARTED).set()
        try:
            await self._forward(Stream(sender, codec))
        except (asyncio.CancelledError, ConnectionError, MediaStreamError):
            pass
        except Exception:
            # stop() waits for the exit event below, so nothing may escape before it.
            logger.exception("media forwarding to a subscriber failed")
        self._stream = None
        track = getattr(sender, TRACK)
        if track is not None:
            track.stop()
            setattr(sender, TRACK, None)
        getattr(sender, EXITED).set()

    def express(self, track: ForwardTrack, frame: av.Packet[Any]) -> bool:
        """Send ``frame`` now if it can go out natively and in order; False: queue it."""
        stream, sender = self._stream, self.sender
        if stream is None or self._busy or getattr(sender, TRACK) is not track:
            return False
        try:
            route = stream.router.route(sender.transport)
            if route is None:
                return False
            frame = track.take(frame)
            if sender._enabled and stream.send_frame(route, frame, track.time_base):
                srtp_send.COUNTS["native_frames"] += 1
        except Exception:  # runs in the publisher's receive path: never break it
            logger.exception("media forwarding to a subscriber failed")
        return True

    async def _forward(self, stream: Stream) -> None:
        sender = self.sender
        self._stream = stream
        while True:
            track: Any = getattr(sender, TRACK)
            if track is None:
                await asyncio.sleep(0.02)
                continue
            self._busy = False
            frame = await track.recv()
            self._busy = True
            if not sender._enabled:
                continue
            transport = sender.transport  # read per frame, as aiortc does: it may be replaced
            route = stream.router.route(transport)
            if route is not None:
                if stream.send_frame(route, frame, track.time_base):
                    srtp_send.COUNTS["native_frames"] += 1
                continue
            outgoing = stream.packets_of(frame, track.time_base)
            if outgoing:
                srtp_send.COUNTS["fallback_frames"] += 1
                for data in outgoing:
                    await transport._send_rtp(data)


SENDER = (
    "self.__rtp_history.get(sequence_number % RTP_HISTORY_SIZE)",
    "asyncio.ensure_future(self._run_rtp(parameters.codecs[0]))",
    "await asyncio.gather(self.__rtp_exited.wait(), self.__rtcp_exited.wait())",
)


def check_internals(sender: RTCRtpSender) -> None:
    """Fail loudly if an aiortc sender lacks what ``RtpWriter`` reads or writes."""
    internals.require_source(RTCRtpSender, SENDER)
    if getattr(rtcrtpsender, "RTP_HISTORY_SIZE", None) != HISTORY_SIZE:
        raise RuntimeError("aiortc's RTP history size changed")
    internals.require_attributes(sender, (*PRIVATE, *COUNTERS))
    if not callable(getattr(sender, "_run_rtp", None)) or not hasattr(sender, "_enabled"):
        raise RuntimeError("aiortc RTCRtpSender no longer runs _run_rtp")
