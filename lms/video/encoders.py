"""One thread per rendition: scale, encode and mux while the main thread decodes.

A pure loop (decode, then scale and encode five renditions in turn) kept only ~1.4 of this
machine's 2 cores busy and ran 1.47 times the ffmpeg command line's wall time on the bench
clip; PyAV releases the GIL in ``sws_scale`` and in libx264's calls, so a thread per
rendition lets decoding, scaling and encoding overlap as ffmpeg's own pipeline does. Each
thread owns its rendition's container (muxing is never shared); frames reach it through a
bounded queue (a slow encoder holds the decoder back instead of growing memory). A failure
in a thread is kept and raised in the main thread at the next hand-over or at ``finish``.
Each thread scales with its own ``VideoReformatter``: ``frame.reformat`` caches one on the
frame, and five threads sharing it deadlocked.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Literal

import av
import av.container
from av.video.reformatter import VideoReformatter

from lms.video.ladder import Rendition

QUEUE_FRAMES = 8
"""Frames waiting per rendition (each a reference to a decoded frame, not a copy)."""

SCALER = "BILINEAR"
_KEY = av.video.frame.PictureType.I
_ANY = av.video.frame.PictureType.NONE


@dataclass
class Rung:
    """A rendition's open output: its HLS container and streams."""

    rendition: Rendition
    container: av.container.OutputContainer
    video: av.VideoStream
    audio: av.AudioStream | None


_Item = (
    tuple[Literal["video"], av.VideoFrame, int, bool]
    | tuple[Literal["audio"], av.AudioFrame, int, bool]
    | None
)


class RungThread:
    """Scales and encodes the frames handed to it into ``rung``, in its own thread."""

    def __init__(self, rung: Rung) -> None:
        self.rung = rung
        self._queue: queue.Queue[_Item] = queue.Queue(QUEUE_FRAMES)
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._work, name=f"encode-{rung.rendition.name}", daemon=True
        )
        self._thread.start()

    def video(self, frame: av.VideoFrame, pts: int, key: bool) -> None:
        """Encode ``frame`` at ``pts`` (the encoder's time base), a keyframe if ``key``."""
        self._put(("video", frame, pts, key))

    def audio(self, frame: av.AudioFrame) -> None:
        """Encode ``frame`` (already resampled and timed)."""
        self._put(("audio", frame, 0, False))

    def finish(self) -> None:
        """Flush the encoders and wait for the thread; raise its failure, if any."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        """End the thread without flushing (after a failure elsewhere)."""
        if self._thread.is_alive():
            self._error = self._error or RuntimeError("stopped")
            self._queue.put(None)
            self._thread.join()

    def _put(self, item: _Item) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(item)

    def _work(self) -> None:
        rung = self.rung
        r = rung.rendition
        scaler = VideoReformatter()  # its own: a frame's cached one is not thread-safe
        while (item := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain: the main thread learns of the failure at its next put
            try:
                kind, frame, pts, key = item
                if kind == "video":
                    assert isinstance(frame, av.VideoFrame)
                    scaled = scaler.reformat(
                        frame, r.width, r.height, "yuv420p", interpolation=SCALER
                    )
                    scaled.pts, scaled.time_base = pts, rung.video.codec_context.time_base
                    scaled.pict_type = _KEY if key else _ANY
                    for packet in rung.video.encode(scaled):
                        rung.container.mux(packet)
                elif rung.audio is not None:
                    assert isinstance(frame, av.AudioFrame)
                    for packet in rung.audio.encode(frame):
                        rung.container.mux(packet)
            except BaseException as exc:
                self._error = exc
        if self._error is None:
            try:
                for packet in rung.video.encode(None):
                    rung.container.mux(packet)
                if rung.audio is not None:
                    for packet in rung.audio.encode(None):
                        rung.container.mux(packet)
            except BaseException as exc:
                self._error = exc
