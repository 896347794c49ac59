"""The ladder from synthetic clips: renditions, playlists, segments, keyframes, thumbnails.

Two clips (640x360 with mono audio, 1280x720 with 5.1 audio), each transcoded once per
module in-process (the worker process is tested in test_process.py).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from video_kit import clip, decode_segments, jpeg_size, segment_keyframes

from lms.video import ladder, playlist, probe, transcode
from lms.video.transcode import Result

pytestmark = pytest.mark.slow  # among the costliest modules: the workers start with them


def _ladder(folder: Path, source_path: Path) -> tuple[Result, list[float]]:
    info = probe.probe(source_path)
    shares: list[float] = []
    result = transcode.transcode(
        source_path, folder / "out", info, ladder.plan(info), progress=shares.append
    )
    return result, shares


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result, list[float]]:
    folder = tmp_path_factory.mktemp("small")
    source = clip(folder / "small.mp4", width=640, height=360, seconds=9, channels=1)
    result, shares = _ladder(folder, source)
    return folder / "out", result, shares


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result, list[float]]:
    folder = tmp_path_factory.mktemp("wide")
    source = clip(folder / "wide.mp4", width=1280, height=720, seconds=5, channels=6)
    result, shares = _ladder(folder, source)
    return folder / "out", result, shares


def test_renditions_up_to_the_source(
    small: tuple[Path, Result, list[float]], wide: tuple[Path, Result, list[float]]
) -> None:
    assert [(o.name, o.width, o.height) for o in small[1].renditions] == [
        ("240p", 426, 240),
        ("360p", 640, 360),
    ]
    assert [o.name for o in wide[1].renditions] == ["240p", "360p", "480p", "720p"]
    for _, result, _ in (small, wide):
        for output in result.renditions:
            assert output.codecs.startswith("avc1.64") and output.codecs.endswith(",mp4a.40.2")


@pytest.mark.parametrize("which", ["small", "wide"])
def test_playlists_are_valid_and_complete(which: str, request: pytest.FixtureRequest) -> None:
    folder, result, _ = request.getfixturevalue(which)
    variants = playlist.parse_master((folder / result.master).read_text())
    assert [(v.width, v.height) for v in variants] == [
        (o.width, o.height) for o in result.renditions
    ]
    for variant, output in zip(variants, result.renditions, strict=True):
        assert variant.uri == output.playlist
        assert variant.bandwidth == output.bandwidth >= variant.average_bandwidth > 0
        assert variant.frame_rate == 30.0
        media = playlist.parse_media((folder / variant.uri).read_text())
        assert media.ended and media.init == "init.mp4"
        assert (folder / output.name / media.init).stat().st_size > 0
        for segment in media.segments:
            assert (folder / output.name / segment.uri).stat().st_size > 0
            assert segment.duration <= media.target_duration + 0.5
        assert media.duration == pytest.approx(result.duration, abs=0.1)
        peak, average = playlist.bandwidths(folder / variant.uri)
        assert (peak, average) == (variant.bandwidth, variant.average_bandwidth)


@pytest.mark.parametrize("which", ["small", "wide"])
def test_segments_decode_at_the_rendition_size_with_stereo_audio(
    which: str, request: pytest.FixtureRequest
) -> None:
    folder, result, _ = request.getfixturevalue(which)
    for output in result.renditions:
        videos, audios, size = decode_segments(folder, output.name)
        assert videos == round(result.duration * 30)
        assert audios > 0
        assert size == (output.width, output.height)


def test_audio_is_downmixed_to_stereo(wide: tuple[Path, Result, list[float]]) -> None:
    import av

    folder, result, _ = wide
    with av.open(str(folder / result.renditions[0].name / "init.mp4")) as container:
        (audio,) = container.streams.audio
        assert audio.codec_context.channels == 2
        assert audio.codec_context.sample_rate == 48000


def test_keyframes_start_every_segment_in_every_rendition(
    small: tuple[Path, Result, list[float]],
) -> None:
    folder, result, _ = small
    per_rendition = [segment_keyframes(folder, o.name) for o in result.renditions]
    assert len(per_rendition[0]) == 3  # 9 s in ~4 s segments
    for keyframes in per_rendition:
        assert keyframes == per_rendition[0]
        for index, times in enumerate(keyframes):
            first = times[0] - keyframes[0][0]
            assert first == pytest.approx(index * 4.0, abs=0.04)
            gaps = [b - a for a, b in itertools.pairwise(times)]
            assert all(gap == pytest.approx(2.0, abs=0.04) for gap in gaps)


def test_poster_and_thumbnail_strip(wide: tuple[Path, Result, list[float]]) -> None:
    folder, result, _ = wide
    assert jpeg_size(folder / result.poster) == (1280, 720)
    cues = (folder / result.thumbnails).read_text().split("\n\n")
    assert cues[0] == "WEBVTT"
    tiles = [c for c in cues[1:] if c.strip()]
    assert len(tiles) == 3  # 5 s, one tile every 2 s
    assert tiles[0].splitlines() == ["00:00:00.000 --> 00:00:02.000", "sprite.jpg#xywh=0,0,160,90"]
    assert tiles[2].splitlines()[1] == "sprite.jpg#xywh=320,0,160,90"
    assert jpeg_size(folder / result.sprite) == (480, 90)


def test_progress_rises_to_one(small: tuple[Path, Result, list[float]]) -> None:
    shares = small[2]
    assert shares == sorted(shares)
    assert shares[-1] == 1.0 and len(shares) > 10
    assert all(0 <= s <= 1 for s in shares)


def test_a_clip_without_audio_and_an_odd_size(tmp_path: Path) -> None:
    source = clip(tmp_path / "odd.mkv", width=202, height=114, seconds=1, channels=0)
    result, _ = _ladder(tmp_path, source)
    assert [(o.name, o.width, o.height) for o in result.renditions] == [("114p", 202, 114)]
    assert "mp4a" not in result.renditions[0].codecs
    videos, audios, _ = decode_segments(tmp_path / "out", "114p")
    assert (videos, audios) == (30, 0)
    assert Result.from_json(result.to_json()) == result
