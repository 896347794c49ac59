"""Where utterances begin and end in one stream, and when to decode them (Sans-I/O).

Engines such as Whisper transcribe a whole window of audio at a time, so live captions
need a policy: a cheap energy detector marks 20 ms frames as speech or not; speech opens
an utterance (with a little audio from before it, so the first word keeps its onset);
silence long enough closes it and asks for a *final* decode; while it goes on, a *partial*
decode is asked for every ``partial_interval`` seconds of audio; an utterance longer than
``max_utterance`` is cut there. The segmenter only decides; whoever owns the model decodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from media.captions.engine import SAMPLE_RATE

FRAME = SAMPLE_RATE // 50
"""Samples in one 20 ms analysis frame."""

Samples = npt.NDArray[np.int16]


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpointing:
    """The knobs of the segmenter (seconds of audio, and the speech level in dBFS)."""

    speech_dbfs: float = -42.0
    pre_roll: float = 0.3
    endpoint_silence: float = 0.5
    partial_interval: float = 1.5
    min_speech: float = 0.2
    max_utterance: float = 12.0

    def __post_init__(self) -> None:
        if not -90.0 <= self.speech_dbfs <= 0.0:
            raise ValueError("speech_dbfs must be between -90 and 0")
        if not 0.0 <= self.pre_roll <= 2.0:
            raise ValueError("pre_roll must be between 0 and 2 s")
        if not 0.1 <= self.endpoint_silence <= 5.0:
            raise ValueError("endpoint_silence must be between 0.1 and 5 s")
        if self.partial_interval != 0.0 and not 0.5 <= self.partial_interval <= 30.0:
            raise ValueError("partial_interval must be 0 (no partials) or 0.5 to 30 s")
        if not 0.0 <= self.min_speech <= 2.0:
            raise ValueError("min_speech must be between 0 and 2 s")
        if not 2.0 <= self.max_utterance <= 28.0:
            raise ValueError("max_utterance must be between 2 and 28 s")


@dataclass(frozen=True, slots=True)
class Decode:
    """A request to transcribe ``samples``, which start ``start`` s into the stream."""

    utterance: int
    samples: Samples
    start: float
    final: bool
    onset: float = 0.0
    """When speech was first detected (s into the stream); ``start`` adds the pre-roll."""


@dataclass(slots=True)
class Segmenter:
    """Feeds on int16 samples; answers with the decodes that are due."""

    policy: Endpointing = field(default_factory=Endpointing)
    _position: int = 0  # samples consumed, i.e. the stream clock
    _carry: Samples = field(default_factory=lambda: np.zeros(0, np.int16))
    _pre_roll: list[Samples] = field(default_factory=list)
    _utterance: list[Samples] | None = None
    _utterance_start: int = 0
    _utterance_samples: int = 0
    _speech_samples: int = 0
    _onset: int = 0
    _silence_run: int = 0
    _since_decode: int = 0
    _count: int = 0

    def feed(self, samples: Samples) -> list[Decode]:
        """Consume the next samples; return the decodes now due (oldest first)."""
        data = np.concatenate((self._carry, samples)) if self._carry.size else samples
        whole = data.size - data.size % FRAME
        self._carry = data[whole:].copy()
        due: list[Decode] = []
        for offset in range(0, whole, FRAME):
            decode = self._frame(data[offset : offset + FRAME])
            if decode is not None:
                due.append(decode)
        return due

    def flush(self) -> list[Decode]:
        """End of the stream: the utterance in progress, if any, as a final decode."""
        if self._carry.size:
            padded = np.zeros(FRAME, np.int16)
            padded[: self._carry.size] = self._carry
            self._carry = np.zeros(0, np.int16)
            last = self._frame(padded)
            if last is not None and last.final:
                return [last]
        if self._utterance is None:
            return []
        decode = self._close(trim=self._silence_run)
        return [decode] if decode is not None else []

    def _frame(self, frame: Samples) -> Decode | None:
        policy = self.policy
        speech = _dbfs(frame) >= policy.speech_dbfs
        start = self._position
        self._position += FRAME
        if self._utterance is None:
            if not speech:
                self._pre_roll.append(frame)
                while len(self._pre_roll) * FRAME > policy.pre_roll * SAMPLE_RATE:
                    self._pre_roll.pop(0)
                return None
            held = len(self._pre_roll) * FRAME
            self._utterance = [*self._pre_roll, frame]
            self._pre_roll = []
            self._utterance_start = start - held
            self._onset = start
            self._utterance_samples = held + FRAME
            self._speech_samples = FRAME
            self._silence_run = 0
            self._since_decode = held + FRAME
            return None
        self._utterance.append(frame)
        self._utterance_samples += FRAME
        self._since_decode += FRAME
        if speech:
            self._speech_samples += FRAME
            self._silence_run = 0
        else:
            self._silence_run += FRAME
        if self._silence_run >= policy.endpoint_silence * SAMPLE_RATE:
            return self._close(trim=self._silence_run - int(0.2 * SAMPLE_RATE))
        if self._utterance_samples >= policy.max_utterance * SAMPLE_RATE:
            return self._close(trim=0, keep_open=True)
        interval = policy.partial_interval * SAMPLE_RATE
        if interval and self._since_decode >= interval and self._has_speech():
            self._since_decode = 0
            return Decode(
                self._count, self._samples(), self._seconds(), final=False, onset=self._onset_s()
            )
        return None

    def _close(self, *, trim: int, keep_open: bool = False) -> Decode | None:
        """Finish the current utterance (cut ``trim`` samples of trailing silence)."""
        decode = None
        if self._has_speech():
            samples = self._samples()
            if trim > 0:
                samples = samples[: max(samples.size - trim, 0)]
            decode = Decode(
                self._count, samples, self._seconds(), final=True, onset=self._onset_s()
            )
            self._count += 1
        if keep_open:
            self._utterance = []
            self._utterance_start = self._position
            self._onset = self._position
            self._utterance_samples = 0
            self._speech_samples = 0
            self._since_decode = 0
        else:
            self._utterance = None
        return decode

    def _has_speech(self) -> bool:
        return self._speech_samples >= self.policy.min_speech * SAMPLE_RATE

    def _samples(self) -> Samples:
        assert self._utterance is not None
        return np.concatenate(self._utterance) if self._utterance else np.zeros(0, np.int16)

    def _seconds(self) -> float:
        return self._utterance_start / SAMPLE_RATE

    def _onset_s(self) -> float:
        return self._onset / SAMPLE_RATE


def _dbfs(frame: Samples) -> float:
    """The frame's RMS level relative to full scale (-inf for digital silence)."""
    power = float(np.mean(np.square(frame, dtype=np.float64)))
    if power <= 0.0:
        return -math.inf
    return 10.0 * math.log10(power / (32768.0 * 32768.0))
