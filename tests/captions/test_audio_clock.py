"""``AudioClock``: a caption stream's seconds to wall-clock time, re-anchored after pauses."""

from __future__ import annotations

import pytest

from rooms.audio_clock import AudioClock


def test_positions_follow_the_first_anchor_until_the_next() -> None:
    clock = AudioClock()
    clock.feed(0.2, ended_at=1000.2, anchor=False)  # the first chunk anchors anyway
    clock.feed(0.2, ended_at=1000.9, anchor=False)  # arrived late: no re-anchor
    assert clock.wall(0.0) == pytest.approx(1000.0)
    assert clock.wall(0.3) == pytest.approx(1000.3)
    clock.feed(1.0, ended_at=1010.0, anchor=True)  # after a long pause
    assert clock.fed == pytest.approx(1.4)
    assert clock.wall(0.4) == pytest.approx(1009.0)
    assert clock.wall(1.0) == pytest.approx(1009.6)
    assert clock.wall(0.39) == pytest.approx(1000.39)
