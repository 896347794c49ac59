"""The poster image and the thumbnail strip (seek previews), taken during the ladder's decode.

The transcoder hands every decoded frame's time to ``Thumbnails.wants`` and the frame to
``take`` when wanted, so no second decode of the source is needed. The poster is the frame
at ~10% of the duration (the first frames are often black or a title card). The strip is
one sprite JPEG of tiles (160 pixels wide, 10 a row, at most 100, one every
``interval`` seconds, at least 2 s apart) and a WebVTT file mapping each time range to its
tile (``sprite.jpg#xywh=x,y,w,h``), the form video.js/Plyr/Vidstack and hls.js players'
preview plugins read. JPEGs come from FFmpeg's mjpeg encoder (no Pillow).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from lms.video.captions import format_time
from lms.video.ladder import even

TILE_WIDTH = 160
COLUMNS = 10
MAX_TILES = 100
MIN_INTERVAL = 2.0
POSTER_AT = 0.10
POSTER_MAX_WIDTH = 1280


def jpeg(frame: av.VideoFrame, quality: int = 4) -> bytes:
    """``frame`` as JPEG bytes (``quality``: mjpeg's qscale, 2 best .. 31 worst)."""
    codec = av.CodecContext.create("mjpeg", "w")
    assert isinstance(codec, av.VideoCodecContext)
    codec.width, codec.height = frame.width, frame.height
    codec.pix_fmt = "yuvj420p"
    codec.time_base = Fraction(1, 25)
    codec.options = {"qmin": str(quality), "qmax": str(quality)}
    picture = frame.reformat(format="yuvj420p")
    picture.pts = None
    packets = [*codec.encode(picture), *codec.encode(None)]
    return b"".join(bytes(p) for p in packets)


@dataclass
class Thumbnails:
    """Collects the poster and the strip's tiles for a video of ``duration`` seconds whose
    frames are ``width`` x ``height``; ``poster_width`` caps the poster's width."""

    duration: float
    width: int
    height: int
    poster_width: int = POSTER_MAX_WIDTH
    poster: bytes | None = None
    tiles: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.interval = max(MIN_INTERVAL, math.ceil(self.duration / MAX_TILES))
        self.tile_width = min(TILE_WIDTH, even(self.width))
        self.tile_height = even(self.tile_width * self.height / self.width)
        self.count = max(1, min(MAX_TILES, math.ceil(self.duration / self.interval)))

    def wants(self, seconds: float) -> bool:
        """Whether the frame at ``seconds`` is the poster or the next tile."""
        poster_due = self.poster is None and seconds >= self.duration * POSTER_AT
        tile_due = len(self.tiles) < self.count and seconds >= len(self.tiles) * self.interval
        return poster_due or tile_due

    def take(self, frame: av.VideoFrame, seconds: float) -> None:
        """Keep ``frame`` (shown at ``seconds``) as the poster and/or the next tile."""
        if self.poster is None and seconds >= self.duration * POSTER_AT:
            width = min(self.poster_width, even(frame.width))
            height = even(width * frame.height / frame.width)
            self.poster = jpeg(frame.reformat(width, height))
        while len(self.tiles) < self.count and seconds >= len(self.tiles) * self.interval:
            tile = frame.reformat(self.tile_width, self.tile_height, "rgb24").to_ndarray()
            self.tiles.append(tile)

    def finish(self, last: av.VideoFrame | None) -> None:
        """A short video may end before the poster's time: use its last frame."""
        if self.poster is None and last is not None:
            self.take(last, self.duration)

    def write(self, folder: Path, sprite_name: str = "sprite.jpg") -> tuple[Path, Path, Path]:
        """Write ``poster.jpg``, the sprite and ``thumbnails.vtt`` into ``folder``."""
        poster = folder / "poster.jpg"
        poster.write_bytes(self.poster or b"")
        sprite = folder / sprite_name
        vtt = folder / "thumbnails.vtt"
        tiles = self.tiles or [np.zeros((self.tile_height, self.tile_width, 3), np.uint8)]
        columns = min(COLUMNS, len(tiles))
        rows = math.ceil(len(tiles) / columns)
        sheet = np.zeros((rows * self.tile_height, columns * self.tile_width, 3), np.uint8)
        cues = ["WEBVTT", ""]
        for index, tile in enumerate(tiles):
            row, column = divmod(index, columns)
            x, y = column * self.tile_width, row * self.tile_height
            sheet[y : y + self.tile_height, x : x + self.tile_width] = tile
            start = index * self.interval
            end = min(self.duration, start + self.interval)
            if end <= start:
                end = start + 0.001
            cues.append(f"{format_time(start)} --> {format_time(end)}")
            cues.append(f"{sprite_name}#xywh={x},{y},{self.tile_width},{self.tile_height}")
            cues.append("")
        sprite.write_bytes(jpeg(av.VideoFrame.from_ndarray(sheet, format="rgb24")))
        vtt.write_text("\n".join(cues))
        return poster, sprite, vtt
