"""Keyframe facts and the PLI throttle (pure): what is a keyframe, when may we ask again."""

from __future__ import annotations

from dataclasses import dataclass

H264_IDR = 5
H264_SPS = 7


def is_keyframe(codec_name: str, data: bytes) -> bool:
    """Whether an encoded frame can start decoding: a VP8 key frame, an H.264 IDR/SPS.

    Audio frames (and unknown codecs) always count as keyframes: any of them decodes alone.
    """
    name = codec_name.lower()
    if name == "vp8":
        # RFC 6386 9.1: bit 0 of the frame tag is 0 for a key frame.
        return bool(data) and data[0] & 0x01 == 0
    if name == "h264":
        return any(nal_type in (H264_IDR, H264_SPS) for nal_type in h264_nal_types(data))
    return True


def h264_nal_types(data: bytes) -> list[int]:
    """The NAL unit types of an Annex B byte stream (start codes 00 00 01 / 00 00 00 01)."""
    types = []
    start = data.find(b"\x00\x00\x01")
    while start != -1 and start + 3 < len(data):
        types.append(data[start + 3] & 0x1F)
        start = data.find(b"\x00\x00\x01", start + 3)
    return types


@dataclass
class KeyframeThrottle:
    """At most one keyframe request per ``interval`` seconds (per publisher track)."""

    interval: float = 1.0
    last: float | None = None
    sent: int = 0

    def allow(self, now: float) -> bool:
        """Whether a request may go out at ``now`` (monotonic seconds); records it if so."""
        if self.last is not None and now - self.last < self.interval:
            return False
        self.last = now
        self.sent += 1
        return True
