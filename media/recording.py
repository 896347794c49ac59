"""Recording one published track to a file without re-encoding (PyAV muxes the packets).

VP8 and Opus go into WebM, H.264 into Matroska. The container header needs the picture
size (and H.264's SPS/PPS), read from the first keyframe, which ``PublishedTrack.packets``
starts with (it asks the publisher for one). RTP timestamps are unwrapped and rebased to
start at zero. Muxing (file I/O) runs in a worker thread, one packet at a time, in order.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from media.forwarding import PacketStream
from media.frame_headers import HeaderError, h264_dimensions, h264_parameter_sets, vp8_dimensions
from media.keyframes import is_keyframe
from media.publisher import PublishedTrack

logger = logging.getLogger("liveclass.media")
WRAP = 1 << 32


@dataclass(frozen=True)
class Container:
    """Where a codec's frames are written: muxer format, file extension, content type."""

    format: str
    extension: str
    content_type: str


CONTAINERS = {
    "vp8": Container("webm", ".webm", "video/webm"),
    "opus": Container("webm", ".webm", "audio/webm"),
    "h264": Container("matroska", ".mkv", "video/x-matroska"),
}


def container_for(codec: str) -> Container:
    """The container a codec is recorded into (KeyError: not recordable)."""
    return CONTAINERS[codec.lower()]


def codec_of(track: PublishedTrack) -> str:
    """The track's codec name, lower case (``vp8``, ``h264``, ``opus``)."""
    return str(track.codec.mimeType).split("/", 1)[1].lower()


def opus_head(channels: int = 2, rate: int = 48_000) -> bytes:
    """The Ogg/Matroska Opus identification header (RFC 7845 5.1) a WebM track carries."""
    return b"OpusHead" + struct.pack("<BBHIhB", 1, channels, 0, rate, 0, 0)


@dataclass
class RecordedFile:
    """What a finished recording wrote."""

    path: Path
    bytes: int
    duration: float
    frames: int
    dropped: int


class Timeline:
    """RTP timestamps (32-bit, any start) to increasing pts from zero; late ones are dropped."""

    def __init__(self) -> None:
        self.first: int | None = None
        self.last: int | None = None
        self.pts = 0

    def place(self, timestamp: int) -> int | None:
        """The pts of a frame with RTP ``timestamp``; None if not after the previous one."""
        if self.last is None:
            self.first = self.last = timestamp
            return 0
        step = (timestamp - self.last) % WRAP
        if step == 0 or step >= WRAP // 2:
            return None
        self.last = timestamp
        self.pts += step
        return self.pts


class TrackRecorder:
    """Writes one track's encoded frames to ``path`` until the track ends or ``stop``."""

    def __init__(self, track: PublishedTrack, path: Path, *, capacity: int = 300) -> None:
        self.track = track
        self.codec = codec_of(track)
        self.container = container_for(self.codec)
        self.path = path
        self.time_base = Fraction(1, track.codec.clockRate)
        self.timeline = Timeline()
        self.frames = 0
        self.dropped = 0
        self._stream: PacketStream = track.packets(capacity)
        self._output: Any = None
        self._out_stream: Any = None

    def stop(self) -> None:
        """End the recording now (the track may go on); ``run`` then finishes the file."""
        self._stream.queue.end()

    async def run(self) -> RecordedFile:
        """Write every frame until the end; close the file and report what it holds."""
        try:
            async for packet in self._stream:
                await asyncio.to_thread(self._write, bytes(packet), int(packet.pts or 0))
        finally:
            await asyncio.to_thread(self._close)
        size = self.path.stat().st_size if self.path.exists() else 0
        duration = float(self.timeline.pts * self.time_base)
        return RecordedFile(self.path, size, duration, self.frames, self.dropped)

    # ------------------------------------------------------------ the worker thread

    def _write(self, data: bytes, timestamp: int) -> None:
        keyframe = is_keyframe(self.codec, data)
        if self._output is None and not self._open(data):
            self.dropped += 1
            self.track.request_keyframe()
            return
        pts = self.timeline.place(timestamp)
        if pts is None:
            self.dropped += 1
            return
        packet = av.Packet(data)
        packet.pts = packet.dts = pts
        packet.time_base = self.time_base
        packet.stream = self._out_stream
        packet.is_keyframe = keyframe
        try:
            self._output.mux(packet)
        except av.FFmpegError as exc:  # e.g. a timestamp the muxer rounds onto the previous
            logger.debug("recording dropped a frame: %s", exc)
            self.dropped += 1
            return
        self.frames += 1

    def _open(self, first: bytes) -> bool:
        """Create the file and its stream from the first frame; False if it cannot start one."""
        size: tuple[int, int] | None = None
        try:
            if self.codec == "vp8":
                size = vp8_dimensions(first)
            elif self.codec == "h264":
                size = h264_dimensions(first)
        except HeaderError:
            return False
        if self.track.kind == "video" and size is None:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        output = av.open(str(self.path), "w", format=self.container.format)
        stream: Any
        if self.codec == "opus":
            stream = output.add_stream("opus", rate=48_000)
            stream.codec_context.extradata = opus_head()
        else:
            assert size is not None
            stream = output.add_stream(self.codec)
            stream.width, stream.height = size
            if self.codec == "h264":
                stream.codec_context.extradata = h264_parameter_sets(first)
        stream.time_base = self.time_base
        self._output, self._out_stream = output, stream
        return True

    def _close(self) -> None:
        if self._output is not None:
            try:
                self._output.close()
            except av.FFmpegError:
                logger.exception("recording not finalised", extra={"path": str(self.path)})
            self._output = None
