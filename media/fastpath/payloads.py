"""RTP payloads of a forwarded frame, built once and shared by every subscriber's sender.

aiortc's encoders packetize a frame again for each sender. An SFU sends the same frame to
many peers: H.264 and Opus payloads are the same for all of them, and VP8 payloads differ
only in the picture ID of their payload descriptor (RFC 7741), which each stream numbers
on its own. So a frame is split once and each sender adds its own 4-byte descriptors.
The split matches aiortc's packetizers byte for byte (the unit tests compare them).
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Callable
from fractions import Fraction
from typing import Any, Protocol

import av
from aiortc.codecs.h264 import H264Encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

PACKET_MAX = 1300  # aiortc's payload ceiling, kept so MTU behaviour does not change
VP8_DESCRIPTOR = 4  # S/PartID byte, I bit byte, 15-bit picture ID with the M bit


class FrameCache:
    """What was derived from recent frames, keyed by the frame object every queue shares."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[int, tuple[av.Packet[Any], list[bytes]]] = OrderedDict()

    def get(self, frame: av.Packet[Any], build: Callable[[bytes], list[bytes]]) -> list[bytes]:
        """``build(bytes(frame))``, computed once per frame while it is recent."""
        key = id(frame)
        hit = self._items.get(key)
        if hit is not None and hit[0] is frame:  # the held reference keeps the id unique
            return hit[1]
        value = build(bytes(frame))
        self._items[key] = (frame, value)
        if len(self._items) > self._size:
            self._items.popitem(last=False)
        return value


SHARED = FrameCache()


def vp8_chunks(data: bytes) -> list[bytes]:
    """A VP8 frame cut into the pieces that follow each packet's descriptor."""
    step = PACKET_MAX - VP8_DESCRIPTOR
    return [data[pos : pos + step] for pos in range(0, len(data), step)]


def h264_payloads(data: bytes) -> list[bytes]:
    """An Annex B access unit as RTP payloads (single NAL, STAP-A, FU-A: aiortc's rules)."""
    return H264Encoder._packetize(H264Encoder._split_bitstream(data))


def opus_payloads(data: bytes) -> list[bytes]:
    """An Opus frame travels as one payload."""
    return [data] if data else []


class Payloads(Protocol):
    """One sender's packetizer: the payloads of the next frame on its stream."""

    clock_rate: int

    def __call__(self, frame: av.Packet[Any]) -> list[bytes]: ...


class SharedPayloads:
    """Payloads that are the same on every stream (H.264, Opus)."""

    def __init__(self, build: Callable[[bytes], list[bytes]], clock_rate: int) -> None:
        self._build = build
        self.clock_rate = clock_rate

    def __call__(self, frame: av.Packet[Any]) -> list[bytes]:
        return SHARED.get(frame, self._build)


class Vp8Payloads:
    """VP8 payloads with this stream's own consecutive picture IDs (decoders check them)."""

    clock_rate = 90_000

    def __init__(self, picture_id: int | None = None) -> None:
        self.picture_id = random.getrandbits(15) if picture_id is None else picture_id

    def __call__(self, frame: av.Packet[Any]) -> list[bytes]:
        chunks = SHARED.get(frame, vp8_chunks)
        if not chunks:
            return []
        pid = self.picture_id
        self.picture_id = (pid + 1) & 0x7FFF
        tail = bytes((0x80, 0x80, 0x80 | pid >> 8, pid & 0xFF))
        first = bytes((0x90,)) + tail[1:]
        return [first + chunks[0], *(tail + chunk for chunk in chunks[1:])]


def for_codec(codec: RTCRtpCodecParameters) -> Payloads:
    """The packetizer for a negotiated codec; ValueError for one the SFU does not forward."""
    mime = codec.mimeType.lower()
    if mime == "video/vp8":
        return Vp8Payloads()
    if mime == "video/h264":
        return SharedPayloads(h264_payloads, codec.clockRate)
    if mime == "audio/opus":
        return SharedPayloads(opus_payloads, codec.clockRate)
    raise ValueError(f"no forwarding packetizer for {codec.mimeType}")


def rtp_timestamp(pts: int, time_base: Fraction | None, clock_rate: int) -> int:
    """A pts in the codec's RTP clock (no Fraction arithmetic in the usual case)."""
    if time_base is None or (time_base.numerator == 1 and time_base.denominator == clock_rate):
        return pts
    return int(pts * time_base * clock_rate)
