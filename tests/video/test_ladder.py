"""The ladder plan: renditions, sizes, rates and GOP from a probed source (pure)."""

from __future__ import annotations

import pytest

from lms.video import ladder
from lms.video.ladder import Source

pytestmark = pytest.mark.slow  # among the costliest modules: the workers start with them


def source(width: int, height: int, fps: float = 30.0, bitrate: int = 0) -> Source:
    return Source(width, height, fps, bitrate, 60.0, True)


@pytest.mark.parametrize(
    ("width", "height", "names"),
    [
        (1920, 1080, ["240p", "360p", "480p", "720p", "1080p"]),
        (3840, 2160, ["240p", "360p", "480p", "720p", "1080p"]),
        (1280, 720, ["240p", "360p", "480p", "720p"]),
        (640, 360, ["240p", "360p"]),
        (1080, 1920, ["240p", "360p", "480p", "720p", "1080p"]),
        (1280, 536, ["240p", "360p", "480p", "536p"]),
        (660, 370, ["240p", "360p"]),
        (320, 180, ["180p"]),
        (33, 17, ["16p"]),
    ],
)
def test_renditions_up_to_the_source_never_upscaled(
    width: int, height: int, names: list[str]
) -> None:
    plan = ladder.plan(source(width, height))
    assert [r.name for r in plan.renditions] == names
    for r in plan.renditions:
        assert r.width % 2 == 0 and r.height % 2 == 0
        assert r.width <= width and r.height <= height


def test_sizes_keep_the_aspect_ratio() -> None:
    plan = ladder.plan(source(1920, 1080))
    sizes = [(r.width, r.height) for r in plan.renditions]
    assert sizes == [(426, 240), (640, 360), (854, 480), (1280, 720), (1920, 1080)]
    portrait = ladder.plan(source(1080, 1920))
    assert (portrait.renditions[0].width, portrait.renditions[0].height) == (240, 426)
    for r in plan.renditions:
        assert abs(r.width / r.height - 16 / 9) < 0.01


def test_maxrate_grows_with_size_and_frame_rate_and_bufsize_is_twice() -> None:
    plan = ladder.plan(source(1920, 1080))
    rates = [r.maxrate for r in plan.renditions]
    assert rates == sorted(rates) and len(set(rates)) == len(rates)
    assert all(r.bufsize == 2 * r.maxrate for r in plan.renditions)
    fast = ladder.plan(source(1920, 1080, fps=60))
    assert [r.maxrate for r in fast.renditions] == [round(x * 1.5) for x in rates]
    assert fast.fps == 60


def test_maxrate_capped_at_the_source_bitrate_plus_30_percent() -> None:
    plan = ladder.plan(source(1920, 1080, bitrate=1_000_000))
    assert plan.top.maxrate == 1_300_000
    assert plan.renditions[0].maxrate == 400_000
    tiny = ladder.plan(source(640, 360, bitrate=10_000))
    assert all(r.maxrate == ladder.MIN_MAXRATE for r in tiny.renditions)


def test_frame_rate_capped_and_defaulted_and_gop_fixed() -> None:
    assert ladder.plan(source(640, 360, fps=120)).fps == 60
    assert ladder.plan(source(640, 360, fps=0)).fps == 30
    plan = ladder.plan(source(640, 360, fps=25))
    assert plan.gop_seconds == 2.0 and plan.segment_seconds == 2 * plan.gop_seconds
    assert ladder.gop_frames(25) == 50 and ladder.gop_frames(29.97) == 60
    assert ladder.gop_frames(0.1) == 1


def test_audio_follows_the_source() -> None:
    assert ladder.plan(Source(640, 360, 30, 0, 5.0, False)).audio is False
    assert ladder.plan(Source(640, 360, 30, 0, 5.0, True)).audio is True
