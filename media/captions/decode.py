"""The SFU's audio to what engines take: 16 kHz mono signed 16-bit PCM, audio only.

Two entry points, both cheap (no video is touched, Opus decoding and one resampler pass):
``PcmResampler`` takes decoded ``av.AudioFrame`` objects (what aiortc's receiver yields:
48 kHz s16 stereo), ``OpusDecoder`` takes the Opus payloads the SFU forwards without
decoding, in batches (one resampler pass for many packets). In ``PcmResampler`` a change
of input format mid-stream (a publisher that renegotiated) starts a new resampler after
draining the old one.
"""

from __future__ import annotations

from typing import Any

import av
import numpy as np

from media.captions.engine import SAMPLE_RATE, CaptionInputError

MAX_FRAME_SAMPLES = 48_000 * 2
"""The most samples one input frame may carry (2 s at 48 kHz; Opus frames are <= 120 ms)."""

MIN_RATE, MAX_RATE = 8_000, 192_000

CHANNELS = 2
"""What ``OpusDecoder`` decodes to: stereo, downmixed by the resampler. libopus's own mono
downmix is as cheap but rounds differently (1 in 32768), and tiny.en on espeak-ng's voice
is brittle enough that it doubled the offline WER on the benchmark's sentences (0.09 to 0.21)."""


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
    """Opus payloads (one RTP packet's worth each) in, 16 kHz mono s16 bytes out.

    Decodes to 48 kHz stereo and resamples what gathered in one pass (the output is
    byte for byte what one resampler call per packet gives): ``add`` each packet (and
    ``add_silence`` for a gap), ``take`` the PCM once a batch. Per-packet resampling cost
    more than decoding: on 25 s of spoken sentences in 20 ms packets, a resampler call per
    packet took 153 us a packet in all, resampling 20 packets at once 85 us (libopus alone
    ~57 us; libopus through ctypes straight to 16 kHz mono was no cheaper). ``decode`` (one
    packet, its PCM at once) is the unbatched form.
    """

    MAX_PACKET = 1275 * 3  # RFC 6716: at most 1275 bytes a frame, at most 120 ms a packet
    RATE = 48_000

    def __init__(self) -> None:
        self._codec: Any = av.CodecContext.create("libopus", "r")
        self._codec.sample_rate = self.RATE
        self._codec.layout = "stereo"
        self._codec.format = "s16"
        self._resampler: Any = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        self._chunks: list[np.ndarray] = []

    def add(self, payload: bytes | av.Packet[Any]) -> None:
        """Decode one Opus packet into the batch; ``CaptionInputError`` if it is not one
        (the batch keeps what it had). An ``av.Packet`` is decoded without a copy."""
        if isinstance(payload, bytes | bytearray):
            packet = av.Packet(bytes(payload))
        elif isinstance(payload, av.Packet):
            packet = payload
        else:
            raise CaptionInputError(f"an Opus packet is bytes, not {type(payload).__name__}")
        if not 0 < packet.size <= self.MAX_PACKET:
            raise CaptionInputError(f"an Opus packet of {packet.size} bytes is not valid")
        try:
            frames = self._codec.decode(packet)
        except av.FFmpegError as exc:
            raise CaptionInputError(f"not a valid Opus packet: {exc}") from exc
        for frame in frames:
            self._chunks.append(frame.to_ndarray().reshape(-1)[: frame.samples * CHANNELS])

    def add_silence(self, seconds: float) -> None:
        """``seconds`` of silence into the batch (a gap in the packets' timestamps)."""
        samples = int(seconds * self.RATE)
        if samples > 0:
            self._chunks.append(np.zeros(samples * CHANNELS, dtype=np.int16))

    def take(self) -> bytes:
        """The batch so far as 16 kHz PCM, in one resampler pass (it keeps a few samples
        of filter history back until the next batch or ``flush``)."""
        if not self._chunks:
            return b""
        samples = np.concatenate(self._chunks) if len(self._chunks) > 1 else self._chunks[0]
        self._chunks = []
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples, dtype=np.int16).reshape(1, -1),
            format="s16",
            layout="stereo",
        )
        frame.sample_rate = self.RATE
        return b"".join(_pcm(f) for f in self._resampler.resample(frame))

    def decode(self, payload: bytes | av.Packet[Any]) -> bytes:
        """PCM for one Opus packet; ``CaptionInputError`` if it is not one."""
        self.add(payload)
        return self.take()

    def flush(self) -> bytes:
        """The batch and what the resampler still holds (call at the end of a stream)."""
        out = self.take() + b"".join(_pcm(f) for f in self._resampler.resample(None))
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        return out


def _pcm(frame: Any) -> bytes:
    """The samples of a packed s16 mono frame (planes may carry padding past them)."""
    samples = frame.to_ndarray()
    return np.ascontiguousarray(samples.reshape(-1)[: frame.samples], dtype="<i2").tobytes()
