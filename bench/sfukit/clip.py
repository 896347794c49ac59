"""A pre-encoded VP8 clip (~500 kbps, 640x480, 30 fps) and a track that loops it as packets.

Encoding happens once and is cached on disk, so the publisher in the benchmark spends no CPU
on encoding and both servers receive byte-identical input.
"""

from __future__ import annotations

import asyncio
import hashlib
import pickle
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from aiortc import MediaStreamTrack

FPS = 30
WIDTH, HEIGHT = 640, 480
VIDEO_CLOCK = 90_000
TIME_BASE = Fraction(1, VIDEO_CLOCK)
CACHE = Path(tempfile.gettempdir()) / "liveclass-bench" / "sfu-clip-v1.pickle"


def _picture(index: int) -> av.VideoFrame:
    image = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    image[:, :, 0] = (np.arange(WIDTH)[None, :] + index * 4) % 256
    image[:, :, 1] = (np.arange(HEIGHT)[:, None] + index * 2) % 256
    top = (index * 5) % (HEIGHT - 40)
    image[top : top + 40, :, 2] = 255
    return av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")


def encode_clip(frames: int = 2 * FPS, bitrate: int = 500_000) -> list[bytes]:
    """Encode ``frames`` synthetic pictures with libvpx; the first frame is the only keyframe."""
    context = av.CodecContext.create("libvpx", "w")
    context.width, context.height = WIDTH, HEIGHT
    context.pix_fmt = "yuv420p"
    context.time_base = Fraction(1, FPS)
    context.framerate = FPS
    context.bit_rate = bitrate
    context.gop_size = frames
    context.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    out: list[bytes] = []
    for index in range(frames):
        picture = _picture(index)
        picture.pts = index
        out.extend(bytes(packet) for packet in context.encode(picture))
    out.extend(bytes(packet) for packet in context.encode(None))
    return out


def load_clip() -> list[bytes]:
    """The cached clip, encoded on first use."""
    if CACHE.exists():
        return list(pickle.loads(CACHE.read_bytes()))  # noqa: S301 - our own cache file
    clip = encode_clip()
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_bytes(pickle.dumps(clip))
    return clip


def digest(data: bytes) -> str:
    """A short fingerprint of one encoded frame, to match it at the subscribers."""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


class ClipTrack(MediaStreamTrack):
    """A video track that plays the clip in a loop at 30 fps as ``av.Packet`` (no encoding).

    ``sent`` maps each frame's fingerprint to the monotonic times it was handed to aiortc.
    """

    kind = "video"

    def __init__(self, clip: list[bytes]) -> None:
        super().__init__()
        self.clip = clip
        self.index = 0
        self.started: float | None = None
        self.sent: dict[str, list[float]] = {}
        self.digests = [digest(frame) for frame in clip]

    async def recv(self) -> av.Packet:  # type: ignore[override]
        if self.started is None:
            self.started = time.monotonic()
        due = self.started + self.index / FPS
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        position = self.index % len(self.clip)
        packet = av.Packet(self.clip[position])
        packet.pts = self.index * (VIDEO_CLOCK // FPS)
        packet.time_base = TIME_BASE
        self.sent.setdefault(self.digests[position], []).append(time.monotonic())
        self.index += 1
        return packet
