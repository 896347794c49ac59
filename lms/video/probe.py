"""Reading what a file holds before transcoding it, refusing what we will not transcode.

Every FFmpeg error becomes a typed error with a sentence an instructor can read ("the file
is not a video we can read: ..."). Limits refuse absurd inputs before any frame is scaled:
a side above 8192 pixels, an aspect ratio beyond 8:1 (100000x10), a pixel rate above 4K at
60 fps, more than 6 hours. The first video frame is decoded, so a file whose header looks
fine but whose data is garbage fails here, not halfway through a ladder. Probing runs in
the worker process (``process``); the fuzz test feeds it truncated and flipped files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import av.container

from lms.video.errors import NoVideoStream, UnreadableVideo, VideoError, VideoTooLarge
from lms.video.ladder import Source


@dataclass(frozen=True)
class Limits:
    """What we agree to transcode."""

    max_side: int = 8192
    max_aspect: float = 8.0
    max_pixel_rate: float = 3840 * 2160 * 60
    max_duration: float = 6 * 3600.0


UNREADABLE = "the file is not a video we can read"


def probe(path: Path, limits: Limits | None = None) -> Source:
    """The ``Source`` of the video at ``path`` (UnreadableVideo, NoVideoStream or
    VideoTooLarge otherwise)."""
    limits = limits or Limits()
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise UnreadableVideo(f"{UNREADABLE}: {_reason(exc)}") from None
    try:
        assert isinstance(container, av.container.InputContainer)
        return _probe(container, path, limits)
    except VideoError:
        raise
    except Exception as exc:  # a damaged file surprises PyAV in many ways: all are "unreadable"
        raise UnreadableVideo(f"{UNREADABLE}: {_reason(exc)}") from None
    finally:
        container.close()


def _probe(container: av.container.InputContainer, path: Path, limits: Limits) -> Source:
    if not container.streams.video:
        kinds = ", ".join(sorted({str(s.type) for s in container.streams}))
        raise NoVideoStream(f"the file has no video in it (it holds {kinds or 'nothing we know'})")
    stream = container.streams.video[0]
    if stream.codec_context is None:
        raise UnreadableVideo(f"{UNREADABLE}: its video is in a format we do not know")
    width, height = stream.codec_context.width, stream.codec_context.height
    check_size(width, height, limits)
    fps = float(stream.average_rate or stream.guessed_rate or 0)
    if not 0 < fps <= 1000:
        fps = 0.0
    duration = _duration(container, stream)
    if duration > limits.max_duration:
        hours = limits.max_duration / 3600
        raise VideoTooLarge(f"the video is longer than {hours:g} hours")
    if width * height * max(fps, 1.0) > limits.max_pixel_rate:
        raise VideoTooLarge(f"{width}x{height} at {fps:g} frames per second is more than 4K60")
    frame = _first_frame(container, stream)
    check_size(frame.width, frame.height, limits)
    if duration <= 0:
        duration = _scanned_duration(path)
    if duration <= 0:
        raise UnreadableVideo(f"{UNREADABLE}: it has no length")
    bitrate = int(stream.bit_rate or 0)
    if bitrate <= 0 and container.bit_rate:
        audio = sum(int(s.bit_rate or 0) for s in container.streams.audio)
        bitrate = max(0, int(container.bit_rate) - audio)
    if bitrate <= 0:
        bitrate = int(path.stat().st_size * 8 / duration)
    return Source(frame.width, frame.height, fps, bitrate, duration, bool(container.streams.audio))


def check_size(width: int, height: int, limits: Limits) -> None:
    """Refuse a picture size we will not scale (zero, huge, or absurdly thin)."""
    if width <= 0 or height <= 0:
        raise UnreadableVideo(f"{UNREADABLE}: its pictures have no size")
    if max(width, height) > limits.max_side:
        raise VideoTooLarge(
            f"the video is {width}x{height}; the largest side we take is {limits.max_side}"
        )
    if max(width, height) / min(width, height) > limits.max_aspect:
        raise VideoTooLarge(f"the video is {width}x{height}, far too thin a picture to show")


def _duration(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    return 0.0


def _first_frame(container: av.container.InputContainer, stream: av.VideoStream) -> av.VideoFrame:
    for packet in container.demux(stream):
        for frame in packet.decode():
            if isinstance(frame, av.VideoFrame):
                return frame
    raise UnreadableVideo(f"{UNREADABLE}: no picture in it could be decoded")


def _scanned_duration(path: Path) -> float:
    """The length by reading every packet's timestamp (files whose header has none, such as
    a WebM recording closed abruptly); no decoding."""
    with av.open(str(path), mode="r", metadata_errors="ignore") as container:
        assert isinstance(container, av.container.InputContainer)
        stream = container.streams.video[0]
        first: float | None = None
        last = 0.0
        for packet in container.demux(stream):
            if packet.pts is None or packet.time_base is None:
                continue
            end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            start = float(packet.pts * packet.time_base)
            first = start if first is None else min(first, start)
            last = max(last, end)
        return last - (first or 0.0)


def _reason(exc: BaseException) -> str:
    """FFmpeg's own words for what went wrong, without the file name it quotes."""
    if isinstance(exc, av.FFmpegError) and exc.strerror:
        return str(exc.strerror).rstrip(".").lower()
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
