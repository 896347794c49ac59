"""What every speech-to-text engine gives the captions worker: one interface, its results.

An *engine* holds a loaded model (heavy, one per worker process) and opens one *stream*
per speaker. A stream takes 16 kHz mono signed 16-bit PCM in chunks and answers with the
captions that are ready: *partial* ones (the words so far of an utterance still being
spoken, rewritten as it goes) and one *final* per utterance, each with word timings in
seconds from the start of that stream. Streams are synchronous and CPU-bound by design:
the worker (``worker.py``) runs them outside the server's event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

SAMPLE_RATE = 16_000
"""The one rate every engine takes (Hz); ``decode.py`` brings the SFU's audio to it."""

SAMPLE_WIDTH = 2
"""Bytes per sample: signed 16-bit little-endian, mono."""


class CaptionInputError(ValueError):
    """Audio an engine or decoder cannot take; the message says what was wrong."""


class EngineUnavailable(RuntimeError):
    """The configured engine or its model cannot be loaded (message says which and why)."""


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word and when it was spoken (seconds from the stream's start)."""

    text: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Caption:
    """What a stream recognised of one utterance so far (``final``) or in the end.

    ``utterance`` numbers the utterances of a stream from 0; a partial is replaced by the
    next partial or the final of the same utterance, so a viewer shows the latest one.
    """

    utterance: int
    text: str
    words: tuple[Word, ...]
    start: float
    end: float
    final: bool


class SpeechToText(Protocol):
    """One speaker's audio in, captions out."""

    def accept(self, pcm: bytes, *, sample_rate: int = SAMPLE_RATE) -> list[Caption]:
        """Take the next chunk of PCM; return the captions that became ready.

        Raises ``CaptionInputError`` for audio that is not 16 kHz mono s16 or is too long
        for one chunk; the stream stays usable.
        """
        ...

    def flush(self) -> list[Caption]:
        """The audio has ended (or paused for good): finish the utterance in progress."""
        ...

    def close(self) -> None:
        """Release what the stream holds; no call may follow."""
        ...


class SpeechEngine(Protocol):
    """A loaded model that opens streams; one per worker process."""

    name: str

    def open_stream(self) -> SpeechToText:
        """A new stream, for one speaker, with its clock at 0."""
        ...

    def close(self) -> None:
        """Release the model."""
        ...


def check_pcm(pcm: bytes, *, sample_rate: int, max_seconds: float) -> None:
    """Raise ``CaptionInputError`` unless ``pcm`` is a sane chunk of 16 kHz mono s16 audio."""
    if not isinstance(pcm, bytes | bytearray | memoryview):
        raise CaptionInputError(f"PCM must be bytes, not {type(pcm).__name__}")
    if sample_rate != SAMPLE_RATE:
        raise CaptionInputError(
            f"audio at {sample_rate} Hz: engines take {SAMPLE_RATE} Hz mono s16 "
            "(resample it with media.captions.decode.PcmResampler)"
        )
    if len(pcm) % SAMPLE_WIDTH:
        raise CaptionInputError(f"PCM of {len(pcm)} bytes is not whole 16-bit samples")
    seconds = len(pcm) / (SAMPLE_RATE * SAMPLE_WIDTH)
    if seconds > max_seconds:
        raise CaptionInputError(
            f"a chunk of {seconds:.1f} s of audio is more than the {max_seconds:g} s one "
            "chunk may hold: feed audio as it arrives"
        )
