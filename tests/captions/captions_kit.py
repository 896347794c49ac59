"""Spoken test audio for the captions suites: espeak-ng sentences as 16 kHz mono s16 PCM."""

from __future__ import annotations

import fractions
import functools
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import pytest

from kits.servers import IN_CI
from media.captions.decode import PcmResampler
from media.captions.engine import Caption, CaptionInputError, SpeechToText, Word

SENTENCES = (
    "please open your textbook to chapter five and read the first page",
    "raise your hand if you have a question about the homework",
    "can everyone hear me clearly in the back of the room",
    "the meeting starts at ten o'clock on monday morning",
    "today we will learn how plants turn sunlight into energy",
)


def need_espeak() -> str:
    """The espeak-ng binary; skip without it (fail in CI, where scripts/test installs it)."""
    found = shutil.which("espeak-ng")
    if found is None:
        if IN_CI:
            pytest.fail("espeak-ng is missing (scripts/test installs it)")
        pytest.skip("espeak-ng is not installed")
    return found


@functools.cache
def spoken(text: str) -> bytes:
    """``text`` spoken by espeak-ng (US English), decoded and resampled by our decode path."""
    binary = need_espeak()
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "spoken.wav"
        subprocess.run([binary, "-v", "en-us", "-w", str(wav), text], check=True, timeout=60)
        return wav_pcm(wav)


def wav_pcm(path: Path) -> bytes:
    """Any audio file as 16 kHz mono s16 PCM through ``PcmResampler``."""
    resampler = PcmResampler()
    out = bytearray()
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            out += resampler.convert(frame)
    out += resampler.flush()
    return bytes(out)


def silence(seconds: float) -> bytes:
    return bytes(int(seconds * 16000) * 2)


def feed(stream: SpeechToText, pcm: bytes, *, chunk: int = 640) -> list[Caption]:
    """All captions of ``pcm`` fed in 20 ms chunks, then flushed."""
    out: list[Caption] = []
    for offset in range(0, len(pcm), chunk):
        out += stream.accept(pcm[offset : offset + chunk])
    return out + stream.flush()


@dataclass
class EchoStream:
    """A fake engine stream: one final caption per ``accept`` naming the bytes it saw."""

    seen: list[int] = field(default_factory=list)
    closed: bool = False

    def accept(self, pcm: bytes, *, sample_rate: int = 16000) -> list[Caption]:
        if self.closed:
            raise CaptionInputError("closed")
        self.seen.append(len(pcm))
        n = len(self.seen) - 1
        return [Caption(n, f"chunk {len(pcm)}", (Word("chunk", 0.0, 0.1),), 0.0, 0.1, True)]

    def flush(self) -> list[Caption]:
        return [Caption(len(self.seen), "end", (), 0.0, 0.0, True)]

    def close(self) -> None:
        self.closed = True


@dataclass
class EchoEngine:
    """A fake ``SpeechEngine`` for worker tests (``engine="captions_kit:echo_engine"``)."""

    name: str = "echo"
    streams: list[EchoStream] = field(default_factory=list)

    def open_stream(self) -> EchoStream:
        stream = EchoStream()
        self.streams.append(stream)
        return stream

    def close(self) -> None:
        pass


def echo_engine(config: object) -> EchoEngine:
    return EchoEngine()


def iter_words(captions: list[Caption]) -> Iterator[Word]:
    for caption in captions:
        yield from caption.words


def opus_packets(pcm: bytes) -> list[bytes]:
    """16 kHz mono s16 PCM as the 20 ms Opus packets (48 kHz stereo) a browser would send."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48_000, "stereo", "s16"
    encoder.time_base = fractions.Fraction(1, 48_000)
    resampler = av.AudioResampler(format="s16", layout="stereo", rate=48_000, frame_size=960)
    source = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
    source.planes[0].update(pcm)
    source.sample_rate, source.pts = 16_000, 0
    packets: list[bytes] = []
    for frame in [*resampler.resample(source), *resampler.resample(None)]:
        frame.pts = None
        packets += [bytes(p) for p in encoder.encode(frame)]
    packets += [bytes(p) for p in encoder.encode(None)]
    return packets


def worker_processes(parent: int) -> list[int]:
    """The caption worker processes (``spawn``ed children) of the process ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"multiprocessing" in cmdline:
            found.append(int(entry.name))
    return found
