"""A caption stream's seconds to wall-clock time (``AudioClock``), re-anchored after pauses.

Automatic captions (``rooms/auto_captions.py``) time each line from the audio fed to its
stream; pinning those seconds to when the audio arrived makes a recording's WebVTT line up.
"""

from __future__ import annotations

import bisect
import time


class AudioClock:
    """A stream's seconds (audio fed so far) to wall-clock time, re-anchored after pauses."""

    def __init__(self) -> None:
        self.fed = 0.0
        self._positions: list[float] = []
        self._walls: list[float] = []

    def feed(self, seconds: float, *, ended_at: float, anchor: bool) -> None:
        """``seconds`` of audio whose last sample arrived at ``ended_at`` (epoch seconds);
        ``anchor``: pin this chunk's start to the wall clock (first audio, after a pause)."""
        if anchor or not self._positions:
            self._positions.append(self.fed)
            self._walls.append(ended_at - seconds)
        self.fed += seconds

    def wall(self, position: float) -> float:
        """When the audio at ``position`` seconds was spoken (epoch seconds)."""
        if not self._positions:
            return time.time()
        index = max(0, bisect.bisect_right(self._positions, position) - 1)
        return self._walls[index] + position - self._positions[index]
