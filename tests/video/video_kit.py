"""Synthetic test clips made with PyAV on the fly: moving colour bars and a sine tone.

Tiny on purpose (a few seconds, small sizes, ``ultrafast``) so the video tests stay fast on
a 2-core machine.
"""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import av.container
import numpy as np

from lms.video import playlist


def clip(
    path: Path,
    *,
    width: int = 640,
    height: int = 360,
    seconds: float = 3.0,
    fps: int = 30,
    channels: int = 2,
    container_format: str | None = None,
    options: dict[str, str] | None = None,
) -> Path:
    """Write a clip of moving bars (and a 440 Hz tone on ``channels`` channels, none if 0)."""
    layouts = {1: "mono", 2: "stereo", 6: "5.1"}
    with av.open(str(path), "w", format=container_format, options=options or {}) as out:
        assert isinstance(out, av.container.OutputContainer)
        video = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = None
        if channels:
            audio = out.add_stream("aac", rate=48000)
            audio.layout = layouts[channels]
        bars = (np.arange(width)[None, :] * 255 // max(1, width - 1)).astype(np.uint8)
        frames = int(seconds * fps)
        for index in range(frames):
            image = np.zeros((height, width, 3), np.uint8)
            image[:, :, 0] = np.roll(bars, index * 4, axis=1)
            image[:, :, 1] = (index * 3) % 256
            x = (index * 7) % max(1, width - 16)
            image[height // 3 : height // 3 + 16, x : x + 16, 2] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        if audio is not None:
            samples = 0
            while samples < seconds * 48000:
                t = np.arange(samples, samples + 1024) / 48000
                tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
                chunk = av.AudioFrame.from_ndarray(
                    np.tile(tone, (channels, 1)), format="fltp", layout=layouts[channels]
                )
                chunk.sample_rate, chunk.pts = 48000, samples
                for packet in audio.encode(chunk):
                    out.mux(packet)
                samples += 1024
            for packet in audio.encode(None):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
    return path


def segment_keyframes(folder: Path, name: str) -> list[list[float]]:
    """Per segment of rendition ``name``: the times of its video keyframes (read with PyAV
    from the init segment followed by the media segment)."""
    media = playlist.parse_media((folder / name / "index.m3u8").read_text())
    assert media.init is not None
    init = (folder / name / media.init).read_bytes()
    out: list[list[float]] = []
    for segment in media.segments:
        data = init + (folder / name / segment.uri).read_bytes()
        with av.open(io.BytesIO(data)) as container:
            assert isinstance(container, av.container.InputContainer)
            stream = container.streams.video[0]
            out.append(
                [
                    round(float(p.pts * p.time_base), 3)
                    for p in container.demux(stream)
                    if p.is_keyframe and p.pts is not None and p.time_base is not None
                ]
            )
    return out


def decode_segments(folder: Path, name: str) -> tuple[int, int, tuple[int, int]]:
    """Decode every segment of rendition ``name``: (video frames, audio frames, size)."""
    media = playlist.parse_media((folder / name / "index.m3u8").read_text())
    assert media.init is not None
    data = (folder / name / media.init).read_bytes() + b"".join(
        (folder / name / s.uri).read_bytes() for s in media.segments
    )
    videos, audios, size = 0, 0, (0, 0)
    with av.open(io.BytesIO(data)) as container:
        assert isinstance(container, av.container.InputContainer)
        for frame in container.decode(*container.streams):
            if isinstance(frame, av.VideoFrame):
                videos += 1
                size = (frame.width, frame.height)
            else:
                audios += 1
    return videos, audios, size


def jpeg_size(path: Path) -> tuple[int, int]:
    """The width and height of a JPEG file (decoded with PyAV)."""
    with av.open(str(path)) as container:
        assert isinstance(container, av.container.InputContainer)
        frame = next(container.decode(video=0))
        assert isinstance(frame, av.VideoFrame)
        return frame.width, frame.height
