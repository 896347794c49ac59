"""Light fuzzing of the probe: a valid clip truncated at many offsets and with flipped
bytes gives a Source or a typed error, never anything else."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from video_kit import clip

from lms.video import probe
from lms.video.errors import VideoError
from lms.video.ladder import Source


@pytest.fixture(scope="module", params=["mp4", "mkv"])
def data(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("fuzz")
    path = clip(folder / f"clip.{request.param}", width=96, height=64, seconds=1, channels=1)
    return path.read_bytes()


def _probe(path: Path) -> Source | VideoError:
    try:
        return probe.probe(path)
    except VideoError as exc:
        return exc


def test_truncated_at_many_offsets(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "cut"
    outcomes = set()
    for offset in sorted({*range(0, 256, 7), *range(0, len(data), max(1, len(data) // 60))}):
        path.write_bytes(data[:offset])
        outcome = _probe(path)
        assert not isinstance(outcome, VideoError) or outcome.detail
        outcomes.add(type(outcome).__name__)
    assert "UnreadableVideo" in outcomes


def test_flipped_bytes(data: bytes, tmp_path: Path) -> None:
    rng = random.Random(18)
    path = tmp_path / "flipped"
    for _ in range(80):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(damaged))
        _probe(path)
