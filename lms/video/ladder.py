"""Planning an HLS ladder from what a source holds: which renditions, at what size and rate.

Pure: no I/O. PeerTube's choices (docs/REFERENCE): renditions up to the source's resolution
among 240p/360p/480p/720p/1080p, never upscaled; ``maxrate`` per resolution and frame rate,
capped at the source's bitrate +30% (re-encoding a 300 kbit/s screen capture at 2.5 Mbit/s
only wastes bytes), ``bufsize`` twice that; a fixed GOP of 2 s with no scene-cut keyframes,
identical in every rendition, so each ~4 s segment starts on a keyframe everywhere and a
player can switch renditions at any segment boundary.

"720p" names the short side, so a portrait 1080x1920 phone video is 1080p, as PeerTube does.
A source between two rungs (e.g. 1280x536, cinema) also gets a rendition at its own size
when it is more than 10% above the highest rung it reaches, so it keeps its detail.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

RUNGS: tuple[int, ...] = (240, 360, 480, 720, 1080)
"""The standard renditions, by their short side."""

MAXRATE_30FPS: dict[int, int] = {
    240: 400_000,
    360: 800_000,
    480: 1_200_000,
    720: 2_500_000,
    1080: 4_500_000,
}
"""Peak video bitrate (bit/s) per rung at 30 fps or less; 60 fps gets 1.5 times this."""

MIN_MAXRATE = 64_000
"""No rendition is capped below this, however low the source's bitrate."""

SOURCE_HEADROOM = 1.3
"""A rendition's maxrate is at most the source's video bitrate times this."""

OWN_SIZE_MARGIN = 1.1
"""A source this much above its highest rung also gets a rendition at its own size."""

MAX_FPS = 60.0
"""Frame rates above this are decimated to it."""

DEFAULT_FPS = 30.0
"""Used when the source does not say its frame rate."""

GOP_SECONDS = 2.0
"""A keyframe every 2 s in every rendition (forced by time, not by scene cuts)."""

SEGMENT_SECONDS = 4.0
"""Target HLS segment length: two GOPs."""

AUDIO_BITRATE = 128_000
AUDIO_RATE = 48_000
AUDIO_CODECS = "mp4a.40.2"
"""AAC-LC stereo: non-stereo audio breaks HLS playback in Chrome (PeerTube's finding)."""


@dataclass(frozen=True)
class Source:
    """What a probe found: picture size, frame rate, video bitrate (0: unknown), length."""

    width: int
    height: int
    fps: float
    bitrate: int
    duration: float
    has_audio: bool


@dataclass(frozen=True)
class Rendition:
    """One rung of the ladder: its name (``720p``), even picture size and rate control."""

    name: str
    width: int
    height: int
    maxrate: int
    bufsize: int


@dataclass(frozen=True)
class Plan:
    """The whole ladder: renditions from the smallest up, the shared frame rate and GOP."""

    renditions: tuple[Rendition, ...]
    fps: float
    gop_seconds: float
    segment_seconds: float
    audio: bool

    @property
    def top(self) -> Rendition:
        """The largest rendition (its size is the poster's)."""
        return self.renditions[-1]


def even(value: float) -> int:
    """``value`` rounded to the nearest even integer, at least 2 (H.264 in 4:2:0 needs even
    dimensions)."""
    return max(2, round(value / 2) * 2)


def output_fps(source_fps: float) -> float:
    """The ladder's frame rate: the source's, at most 60, 30 when unknown."""
    if not source_fps > 0:
        return DEFAULT_FPS
    return min(source_fps, MAX_FPS)


def maxrate_for(short_side: int, fps: float, source_bitrate: int) -> int:
    """Peak bitrate for a rendition whose short side is ``short_side`` (interpolated between
    rungs), raised for frame rates above 30, capped by the source's bitrate +30%."""
    rate = _interpolated(short_side)
    if fps > 30:
        rate = round(rate * (1 + 0.5 * min(1.0, (fps - 30) / 30)))
    if source_bitrate > 0:
        rate = min(rate, round(source_bitrate * SOURCE_HEADROOM))
    return max(MIN_MAXRATE, rate)


def _interpolated(short_side: int) -> int:
    if short_side <= RUNGS[0]:
        return round(MAXRATE_30FPS[RUNGS[0]] * short_side / RUNGS[0])
    for low, high in itertools.pairwise(RUNGS):
        if short_side <= high:
            share = (short_side - low) / (high - low)
            return round(MAXRATE_30FPS[low] + share * (MAXRATE_30FPS[high] - MAXRATE_30FPS[low]))
    return MAXRATE_30FPS[RUNGS[-1]]


def _sized(short: int, source: Source, fps: float) -> Rendition:
    """The rendition whose short side is ``short``, keeping the source's aspect ratio."""
    if source.width >= source.height:
        height = even(short)
        width = even(short * source.width / source.height)
    else:
        width = even(short)
        height = even(short * source.height / source.width)
    width, height = min(width, _even_floor(source.width)), min(height, _even_floor(source.height))
    maxrate = maxrate_for(short, fps, source.bitrate)
    return Rendition(f"{short}p", width, height, maxrate, 2 * maxrate)


def _even_floor(value: int) -> int:
    return max(2, value - value % 2)


def plan(source: Source) -> Plan:
    """The ladder for ``source``: every rung up to its short side (never upscaled), plus its
    own size when it sits well above the highest rung (at most 1080p); a source smaller than
    240p gets a single rendition at its own (even) size."""
    short = min(source.width, source.height)
    fps = output_fps(source.fps)
    shorts = [rung for rung in RUNGS if rung <= short]
    if not shorts:
        shorts = [_even_floor(short)]
    elif short < RUNGS[-1] and short > shorts[-1] * OWN_SIZE_MARGIN:
        shorts.append(_even_floor(short))
    renditions = tuple(_sized(value, source, fps) for value in shorts)
    return Plan(renditions, fps, GOP_SECONDS, SEGMENT_SECONDS, source.has_audio)


def gop_frames(fps: float, gop_seconds: float = GOP_SECONDS) -> int:
    """Frames per GOP at ``fps`` (at least 1)."""
    return max(1, round(fps * gop_seconds))
