"""The SFU's audio to what engines take: 16 kHz mono signed 16-bit PCM, audio only.

Two entry points, both cheap (no video is touched, Opus decoding and one resampler pass):
``PcmResampler`` takes decoded ``av.AudioFrame`` objects (what aiortc's receiver yields:
48 kHz s16 stereo), ``OpusDecoder`` takes the Opus payloads the SFU forwards without
decoding. A change of input format mid-stream (a publisher that renegotiated) starts a
new resampler after draining the old one.
"""

from __future__ import annotations

from typing import Any

import av
import numpy as np

from media.captions.engine import SAMPLE_RATE, CaptionInputError

MAX_FRAME_SAMPLES = 48_000 * 2
"""The most samples one input frame may carry (2 s at 48 kHz; Opus frames are <= 120 ms)."""

MIN_RATE, MAX_RATE = 8_000, 192_000


class PcmResampler:
    """Decoded audio frames in, 16 kHz mono s16 bytes out."""

    def __init__(self) -> None:
        self._resampler: Any = None
        self._source: tuple[str, str, int] | None = None

    def convert(self, frame: av.AudioFrame) -> bytes:
        """PCM for ``frame`` (may be shorter or longer than it: the resampler buffers)."""
        if not isinstance(frame, av.AudioFrame):
            raise CaptionInputError(f"expected an av.AudioFrame, got {type(frame).__name__}")
        rate = int(frame.sample_rate or 0)
        if not MIN_RATE <= rate <= MAX_RATE:
            raise CaptionInputError(f"audio at {rate} Hz: expected {MIN_RATE} to {MAX_RATE} Hz")
        if frame.samples > MAX_FRAME_SAMPLES:
            raise CaptionInputError(
                f"an audio frame of {frame.samples} samples is more than {MAX_FRAME_SAMPLES}"
            )
        source = (frame.format.name, frame.layout.name, rate)
        out = bytearray()
        if source != self._source:
            out += self.flush()
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            self._source = source
        frame.pts = None  # timing is counted in samples downstream; pts gaps must not matter
        for converted in self._resampler.resample(frame):
            out += _pcm(converted)
        return bytes(out)

    def flush(self) -> bytes:
        """What the resampler still holds (call at the end of a stream)."""
        if self._resampler is None:
            return b""
        out = b"".join(_pcm(f) for f in self._resampler.resample(None))
        self._resampler = None
        self._source = None
        return out


class OpusDecoder:
    """Opus payloads (one RTP packet's worth each) in, 16 kHz mono s16 bytes out."""

    MAX_PACKET = 1275 * 3  # RFC 6716: at most 1275 bytes a frame, at most 120 ms a packet

    def __init__(self) -> None:
        self._codec: Any = av.CodecContext.create("libopus", "r")
        self._codec.sample_rate = 48_000
        self._codec.layout = "stereo"
        self._codec.format = "s16"
        self._resampler = PcmResampler()

    def decode(self, payload: bytes) -> bytes:
        """PCM for one Opus packet; ``CaptionInputError`` if it is not one."""
        if not isinstance(payload, bytes | bytearray):
            raise CaptionInputError(f"an Opus packet is bytes, not {type(payload).__name__}")
        if not payload or len(payload) > self.MAX_PACKET:
            raise CaptionInputError(f"an Opus packet of {len(payload)} bytes is not valid")
        try:
            frames = self._codec.decode(av.Packet(bytes(payload)))
        except av.FFmpegError as exc:
            raise CaptionInputError(f"not a valid Opus packet: {exc}") from exc
        return b"".join(self._resampler.convert(f) for f in frames)

    def flush(self) -> bytes:
        """What the resampler still holds."""
        return self._resampler.flush()


def _pcm(frame: Any) -> bytes:
    """The samples of a packed s16 mono frame (planes may carry padding past them)."""
    samples = frame.to_ndarray()
    return np.ascontiguousarray(samples.reshape(-1)[: frame.samples], dtype="<i2").tobytes()
