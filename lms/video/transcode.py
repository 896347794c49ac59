"""Encoding a planned ladder with PyAV: decode the source once, scale and encode each rendition.

One decode feeds every rendition (swscale from the decoded frame, then libx264 ``veryfast``
with CRF 23 under the plan's ``maxrate``/``bufsize``), so a 1080p source is decoded once,
not five times (PeerTube's one ffmpeg run per rendition decodes it five times); each
rendition scales and encodes in its own thread (``encoders``), which took the bench clip
from 1.47x the ffmpeg command line's wall time to about its speed (docs/benchmarks.md).
Keyframes are forced by time every GOP (2 s, IDR, scene cuts off), so every rendition has
a keyframe at the same instants and FFmpeg's HLS muxer (fMP4 segments, ``hls_time`` 4,
VOD) cuts segments at the same times everywhere. Audio: resampled once to 48 kHz stereo
float (mono and 5.1 are downmixed), AAC 128 kbit/s, muxed into every rendition (one
playlist per rendition, no separate audio group: simplest for hls.js and Safari).

The poster and thumbnail strip are taken from the same decode (``thumbnails``). Progress is
decoded time over the source's duration, reported through a callback. Runs in the worker
process (``process``), never on the server's event loop.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container

from lms.video import playlist
from lms.video.encoders import Rung, RungThread
from lms.video.errors import UnreadableVideo
from lms.video.ladder import (
    AUDIO_BITRATE,
    AUDIO_CODECS,
    AUDIO_RATE,
    Plan,
    Rendition,
    Source,
    gop_frames,
)
from lms.video.probe import UNREADABLE, Limits, check_size
from lms.video.thumbnails import Thumbnails

Progress = Callable[[float], None]

TIME_BASE = Fraction(1, 90_000)
"""The encoders' time base (MPEG's 90 kHz): exact for 24, 25, 30, 50, 60 and 29.97 fps."""

SHORT_READ = 0.9
"""A file that decodes to less than this share of its stated length is refused as truncated."""

PRESET = "veryfast"
CRF = "23"


@dataclass(frozen=True)
class Output:
    """One encoded rendition: its playlist (relative to the ladder's folder) and figures."""

    name: str
    width: int
    height: int
    playlist: str
    bandwidth: int
    average_bandwidth: int
    codecs: str
    frame_rate: float


@dataclass(frozen=True)
class Result:
    """A finished ladder: file names are relative to the output folder."""

    duration: float
    width: int
    height: int
    renditions: tuple[Output, ...]
    master: str = "master.m3u8"
    poster: str = "poster.jpg"
    sprite: str = "sprite.jpg"
    thumbnails: str = "thumbnails.vtt"

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (sent from the worker process, stored on the video)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        """The inverse of ``to_json``."""
        outputs = tuple(Output(**item) for item in data["renditions"])
        return cls(**{**data, "renditions": outputs})


def hls_options(rendition: Rendition, segment_seconds: float) -> dict[str, str]:
    """FFmpeg's HLS muxer options for one rendition's folder (fMP4, VOD, independent)."""
    return {
        "hls_time": f"{segment_seconds:g}",
        "hls_playlist_type": "vod",
        "hls_segment_type": "fmp4",
        "hls_flags": "independent_segments",
        "hls_fmp4_init_filename": "init.mp4",
        "hls_segment_filename": "seg_%03d.m4s",
    }


def x264_options(rendition: Rendition, plan: Plan) -> dict[str, str]:
    """libx264's options: veryfast, CRF 23 capped by maxrate/bufsize, fixed GOP, no scene
    cuts, forced keyframes as IDR (the same settings bench/content.py gives ffmpeg)."""
    gop = gop_frames(plan.fps, plan.gop_seconds)
    return {
        "preset": PRESET,
        "crf": CRF,
        "maxrate": str(rendition.maxrate),
        "bufsize": str(rendition.bufsize),
        "g": str(2 * gop),
        "keyint_min": str(gop),
        "sc_threshold": "0",
        "forced-idr": "1",
        "x264-params": "open-gop=0:scenecut=0",
    }


def _open_rung(folder: Path, rendition: Rendition, plan: Plan) -> Rung:
    (folder / rendition.name).mkdir(parents=True, exist_ok=True)
    options = hls_options(rendition, plan.segment_seconds)
    options["hls_segment_filename"] = str(folder / rendition.name / "seg_%03d.m4s")
    container = av.open(
        str(folder / rendition.name / "index.m3u8"), mode="w", format="hls", options=options
    )
    video = container.add_stream(
        "libx264",
        rate=Fraction(plan.fps).limit_denominator(1001),
        options=x264_options(rendition, plan),
    )
    video.width, video.height, video.pix_fmt = rendition.width, rendition.height, "yuv420p"
    video.codec_context.time_base = TIME_BASE
    audio = None
    if plan.audio:
        audio = container.add_stream("aac", rate=AUDIO_RATE)
        audio.layout = "stereo"
        audio.bit_rate = AUDIO_BITRATE
    return Rung(rendition, container, video, audio)


def transcode(
    source_path: Path,
    folder: Path,
    source: Source,
    plan: Plan,
    progress: Progress | None = None,
    limits: Limits | None = None,
) -> Result:
    """Encode ``plan`` from ``source_path`` into ``folder`` (renditions in sub-folders, the
    master playlist, poster and strip beside them). UnreadableVideo if decoding fails or
    the file ends well before its stated length."""
    limits = limits or Limits()
    folder.mkdir(parents=True, exist_ok=True)
    report = _Reporter(source.duration, progress)
    thumbs = Thumbnails(source.duration, plan.top.width, plan.top.height, plan.top.width)
    rungs: list[Rung] = []
    threads: list[RungThread] = []
    try:
        with av.open(str(source_path), mode="r", metadata_errors="ignore") as container:
            assert isinstance(container, av.container.InputContainer)
            rungs = [_open_rung(folder, r, plan) for r in plan.renditions]
            threads = [RungThread(rung) for rung in rungs]
            decoded = _run(container, threads, plan, thumbs, report, limits)
            for thread in threads:
                thread.finish()
    except av.FFmpegError as exc:
        raise UnreadableVideo(f"{UNREADABLE}: {exc.strerror or exc}") from None
    finally:
        for thread in threads:
            thread.stop()
        for rung in rungs:
            _close(rung)
    if decoded < source.duration * SHORT_READ - 1.0:
        raise UnreadableVideo(
            f"{UNREADABLE}: it ends early ({decoded:.0f} s of {source.duration:.0f} s could be"
            " read; was the upload cut short?)"
        )
    thumbs.write(folder)
    outputs = tuple(_output(folder, rung, plan) for rung in rungs)
    variants = [
        playlist.Variant(
            o.playlist, o.bandwidth, o.average_bandwidth, o.width, o.height, o.frame_rate, o.codecs
        )
        for o in outputs
    ]
    (folder / "master.m3u8").write_text(playlist.master(variants))
    report.done()
    return Result(source.duration, source.width, source.height, outputs)


def _run(
    container: av.container.InputContainer,
    threads: list[RungThread],
    plan: Plan,
    thumbs: Thumbnails,
    report: _Reporter,
    limits: Limits,
) -> float:
    """Decode and encode everything; return the decoded duration in seconds."""
    vin = container.streams.video[0]
    vin.thread_type = "AUTO"
    streams: list[Any] = [vin]
    ain = container.streams.audio[0] if plan.audio and container.streams.audio else None
    if ain is not None:
        streams.append(ain)
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
    start: float | None = None
    frame_step = 1.0 / plan.fps
    next_frame, next_key, audio_next = 0.0, 0.0, 0
    last_size = (0, 0)
    last: av.VideoFrame | None = None
    decoded = 0.0
    for packet in container.demux(*streams):
        for frame in packet.decode():
            if isinstance(frame, av.VideoFrame):
                if frame.time is None:
                    continue
                if start is None:
                    start = frame.time
                at = frame.time - start
                if at + frame_step / 2 < next_frame:
                    continue  # above the ladder's frame rate: decimated
                next_frame = max(next_frame + frame_step, at + frame_step / 2)
                if (frame.width, frame.height) != last_size:
                    check_size(frame.width, frame.height, limits)
                    last_size = (frame.width, frame.height)
                key = at + frame_step / 2 >= next_key
                if key:
                    next_key += plan.gop_seconds
                _encode_video(threads, frame, at, key)
                if thumbs.wants(at):
                    thumbs.take(frame, at)
                last = frame
                decoded = at + frame_step
                report.at(at)
            elif isinstance(frame, av.AudioFrame) and start is not None:
                for out in resampler.resample(frame):
                    audio_next = _encode_audio(threads, out, start, audio_next)
    if ain is not None:
        for out in resampler.resample(None):
            audio_next = _encode_audio(threads, out, start or 0.0, audio_next)
    thumbs.finish(last)
    return decoded


def _encode_video(threads: list[RungThread], frame: av.VideoFrame, at: float, key: bool) -> None:
    pts = round(at / TIME_BASE)
    for thread in threads:
        thread.video(frame, pts, key)


def _encode_audio(
    threads: list[RungThread], frame: av.AudioFrame, start: float, next_pts: int
) -> int:
    """Encode one resampled frame into every rendition at its time after ``start``; samples
    before the first picture are dropped; return the next expected pts."""
    if frame.pts is None or frame.time_base is None:
        pts = next_pts
    else:
        pts = max(next_pts, round((float(frame.pts * frame.time_base) - start) * AUDIO_RATE))
    if pts < 0:
        return next_pts
    frame.pts, frame.time_base = pts, Fraction(1, AUDIO_RATE)
    for thread in threads:
        thread.audio(frame)
    return pts + frame.samples


def _close(rung: Rung) -> None:
    with contextlib.suppress(av.FFmpegError):
        rung.container.close()


def _output(folder: Path, rung: Rung, plan: Plan) -> Output:
    r = rung.rendition
    index = folder / r.name / "index.m3u8"
    peak, average = playlist.bandwidths(index)
    extradata = rung.video.codec_context.extradata or b""
    codecs = playlist.avc1_codecs(extradata)
    if plan.audio:
        codecs += f",{AUDIO_CODECS}"
    return Output(
        r.name, r.width, r.height, f"{r.name}/index.m3u8", peak, average, codecs, plan.fps
    )


class _Reporter:
    """Calls ``progress`` with the decoded share of the duration, at most every 1%."""

    def __init__(self, duration: float, progress: Progress | None) -> None:
        self._duration = max(duration, 1e-6)
        self._progress = progress
        self._last = -1.0

    def at(self, seconds: float) -> None:
        share = min(0.99, max(0.0, seconds / self._duration))
        if self._progress is not None and share - self._last >= 0.01:
            self._last = share
            self._progress(share)

    def done(self) -> None:
        if self._progress is not None:
            self._progress(1.0)


def clear(folder: Path) -> None:
    """Remove a ladder's output folder (after a failure or once uploaded)."""
    shutil.rmtree(folder, ignore_errors=True)


def describe(result: Result) -> str:
    """The result as one JSON line (what the worker prints)."""
    return json.dumps(result.to_json(), separators=(",", ":"))
