"""The segmenter alone (no model): when utterances open and close, when decodes are due."""

from __future__ import annotations

import numpy as np

from media.captions.scoring import normalise, spell_number, word_error_rate
from media.captions.segmenter import Decode, Endpointing, Segmenter

RATE = 16000


def loud(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.sin(2 * np.pi * 200 * t) * 6000).astype(np.int16)


def quiet(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.int16)


def run(segmenter: Segmenter, *parts: np.ndarray, step: int = 333) -> list[Decode]:
    audio = np.concatenate(parts)
    due = []
    for i in range(0, audio.size, step):  # odd chunk sizes: frames straddle chunks
        due += segmenter.feed(audio[i : i + step])
    return due


def test_speech_then_silence_gives_one_final_with_pre_roll_and_onset() -> None:
    seg = Segmenter(Endpointing(partial_interval=0.0))
    due = run(seg, quiet(1.0), loud(1.0), quiet(1.0))
    assert len(due) == 1
    final = due[0]
    assert final.final and final.utterance == 0
    assert abs(final.start - 0.7) < 0.03  # 0.3 s of pre-roll before speech at 1.0 s
    assert abs(final.onset - 1.0) < 0.03
    assert 1.4 <= final.samples.size / RATE <= 1.6  # pre-roll + speech + 0.2 s of tail
    assert seg.flush() == []


def test_partials_come_every_interval_while_speech_goes_on() -> None:
    seg = Segmenter(Endpointing(partial_interval=1.0))
    due = run(seg, loud(3.5), quiet(1.0))
    partials = [d for d in due if not d.final]
    assert len(partials) == 3
    assert [round(p.samples.size / RATE) for p in partials] == [1, 2, 3]
    assert due[-1].final and all(d.utterance == 0 for d in due)


def test_long_speech_is_cut_at_max_utterance_and_goes_on() -> None:
    seg = Segmenter(Endpointing(partial_interval=0.0, max_utterance=4.0))
    due = run(seg, loud(9.0), quiet(1.0))
    assert [d.utterance for d in due] == [0, 1, 2]
    assert all(d.final for d in due)
    assert abs(due[1].start - due[0].start - 4.0) < 0.05


def test_clicks_shorter_than_min_speech_decode_nothing() -> None:
    seg = Segmenter(Endpointing(min_speech=0.2))
    assert run(seg, quiet(0.5), loud(0.06), quiet(1.0)) == []


def test_flush_finishes_speech_in_progress() -> None:
    seg = Segmenter(Endpointing(partial_interval=0.0))
    assert run(seg, loud(0.8)) == []
    (final,) = seg.flush()
    assert final.final and final.samples.size >= int(0.8 * RATE) - 320
    assert seg.flush() == []


def test_word_error_rate_ignores_style_and_spells_numbers() -> None:
    assert word_error_rate("ten o'clock on monday", "10 o'clock on Monday.") == 0.0
    assert word_error_rate("a b c d", "a x c") == 0.5
    assert word_error_rate("", "") == 0.0
    assert spell_number(105) == "one hundred five"
    assert spell_number(21_030) == "twenty one thousand thirty"
    assert normalise("Round-fark, 1,250!") == [
        "round",
        "fark",
        "one",
        "thousand",
        "two",
        "hundred",
        "fifty",
    ]
