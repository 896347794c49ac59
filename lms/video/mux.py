"""A room recording's per-track files as one source file the ladder can read.

The SFU writes each published track to its own file without re-encoding (VP8/Opus WebM,
H.264 Matroska: ``media/recording``), each starting when that track started. To publish a
recording as a video we keep one picture (the caller chooses: the screen share, else the
host's camera) and every voice: the picture's packets are copied (no re-encode: the
ladder decodes them once anyway), the voices are decoded, resampled to 48 kHz stereo,
placed at their offsets from the picture's start and summed (clipped), then stored as FLAC
(lossless: the ladder's AAC is the only lossy step). Packets are written in time order,
picture and sound interleaved, so the ladder's single decode pass reads the file straight
through. Like the ladder it reads untrusted-ish files with FFmpeg: run it in a child
process (the job that publishes a recording into a module is not wired yet).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container
import numpy as np

from lms.video.errors import NoVideoStream, UnreadableVideo
from lms.video.probe import UNREADABLE

RATE = 48_000
CHUNK = RATE // 10
"""Voices are mixed 100 ms at a time (memory stays flat whatever the length)."""


@dataclass(frozen=True)
class Track:
    """A track's file and when it started, in seconds after the recording's start."""

    path: Path
    offset: float = 0.0


def _voice(track: Track, start: float) -> Iterator[tuple[int, np.ndarray]]:
    """(first sample, samples as float32 2xN) of ``track``, timed from ``start``."""
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
    position = round((track.offset - start) * RATE)
    with av.open(str(track.path), metadata_errors="ignore") as container:
        assert isinstance(container, av.container.InputContainer)
        if not container.streams.audio:
            return
        for frame in container.decode(container.streams.audio[0]):
            for out in resampler.resample(frame):
                samples = out.to_ndarray().reshape(2, -1)
                yield position, samples
                position += samples.shape[1]
        for out in resampler.resample(None):
            samples = out.to_ndarray().reshape(2, -1)
            yield position, samples
            position += samples.shape[1]


def _mixed(voices: list[Track], start: float) -> Iterator[np.ndarray]:
    """The voices summed, CHUNK samples at a time from sample 0 until the last one ends."""
    sources = [_voice(v, start) for v in voices]
    pending: list[list[tuple[int, np.ndarray]]] = [[] for _ in sources]
    alive = [True] * len(sources)
    cursor = 0
    while True:
        chunk = np.zeros((2, CHUNK), np.float32)
        for index, source in enumerate(sources):
            queue = pending[index]
            while alive[index] and (
                not queue or queue[-1][0] + queue[-1][1].shape[1] < cursor + CHUNK
            ):
                try:
                    queue.append(next(source))
                except StopIteration:
                    alive[index] = False
            kept: list[tuple[int, np.ndarray]] = []
            for first, samples in queue:
                begin, end = max(first, cursor), min(first + samples.shape[1], cursor + CHUNK)
                if begin < end:
                    chunk[:, begin - cursor : end - cursor] += samples[
                        :, begin - first : end - first
                    ]
                if first + samples.shape[1] > cursor + CHUNK:
                    kept.append((first, samples))
            pending[index] = kept
        if not any(alive) and not any(pending):
            return
        yield np.clip(chunk, -1.0, 1.0)
        cursor += CHUNK


def mux_recording(picture: Track, voices: list[Track], target: Path) -> Path:
    """Write ``target`` (Matroska): ``picture``'s video packets copied, ``voices`` mixed to
    FLAC stereo, both timed from the picture's start. UnreadableVideo/NoVideoStream if the
    picture's file cannot be read."""
    try:
        return _mux(picture, voices, target)
    except av.FFmpegError as exc:
        raise UnreadableVideo(f"{UNREADABLE}: {exc.strerror or exc}") from None


def _mux(picture: Track, voices: list[Track], target: Path) -> Path:
    with (
        av.open(str(picture.path), metadata_errors="ignore") as source,
        av.open(str(target), "w", format="matroska") as out,
    ):
        assert isinstance(source, av.container.InputContainer)
        assert isinstance(out, av.container.OutputContainer)
        if not source.streams.video:
            raise NoVideoStream("the recording's picture track has no video in it")
        vin = source.streams.video[0]
        vout = out.add_stream_from_template(vin)
        aout = None
        if voices:
            aout = out.add_stream("flac", rate=RATE)
            aout.layout = "stereo"
        events: Iterator[tuple[float, int, object]] = heapq.merge(
            ((at, 0, p) for at, p in _packets(source, vin)),
            ((i * CHUNK / RATE, 1, c) for i, c in enumerate(_mixed(voices, picture.offset))),
            key=lambda item: (item[0], item[1]),
        )
        samples = 0
        for _, kind, item in events:
            if kind == 0:
                assert isinstance(item, av.Packet)
                item.stream = vout
                out.mux(item)
            elif aout is not None:
                assert isinstance(item, np.ndarray)
                frame = av.AudioFrame.from_ndarray(item, format="fltp", layout="stereo")
                frame.sample_rate, frame.pts, frame.time_base = RATE, samples, Fraction(1, RATE)
                samples += item.shape[1]
                for packet in aout.encode(frame):
                    out.mux(packet)
        if aout is not None:
            for packet in aout.encode(None):
                out.mux(packet)
    return target


def _packets(
    source: av.container.InputContainer, stream: av.VideoStream
) -> Iterator[tuple[float, av.Packet[Any]]]:
    for packet in source.demux(stream):
        if packet.pts is not None and packet.time_base is not None and packet.size:
            yield float(packet.pts * packet.time_base), packet
