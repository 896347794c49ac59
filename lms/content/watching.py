"""How much of a video a learner actually played, from the player's heartbeats.

A heartbeat reports the ranges played since the last one (the media element's `played`
ranges). Coverage is the union of those ranges clipped to the video, so rewatching a minute
counts once and seeking to the end counts nothing. A heartbeat may add at most what the
time since the previous one allows at the fastest playback speed (plus slack), so a script
claiming the whole video in one request gains only that allowance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

Interval = tuple[float, float]

MAX_SPEED: Final = 2.0
"""The fastest playback speed the player offers."""
SLACK_SECONDS: Final = 15.0
"""Allowance beyond elapsed time x speed: clock skew and a heartbeat sent late."""
MAX_INTERVALS: Final = 500
"""Stored ranges per learner and video; beyond it the closest ranges are joined."""


@dataclass(frozen=True, slots=True)
class Coverage:
    """Merged played ranges of one video, and their share of its duration."""

    intervals: tuple[Interval, ...]
    duration: float

    @property
    def seconds(self) -> float:
        """Seconds of the video played at least once."""
        return sum(end - start for start, end in self.intervals)

    @property
    def share(self) -> float:
        """Played share of the video, 0 to 1."""
        return min(1.0, self.seconds / self.duration) if self.duration > 0 else 0.0


def merge(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sorted, non-overlapping ranges covering the same seconds as `intervals`."""
    merged: list[list[float]] = []
    for start, end in sorted((s, e) for s, e in intervals if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


def clip(intervals: Iterable[Interval], duration: float) -> list[Interval]:
    """`intervals` limited to [0, duration]."""
    return [
        (max(0.0, float(s)), min(duration, float(e)))
        for s, e in intervals
        if e > 0 and s < duration
    ]


def _bounded(intervals: tuple[Interval, ...]) -> tuple[Interval, ...]:
    """Join the closest neighbours until at most `MAX_INTERVALS` remain."""
    ranges = list(intervals)
    while len(ranges) > MAX_INTERVALS:
        gaps = [ranges[i + 1][0] - ranges[i][1] for i in range(len(ranges) - 1)]
        i = gaps.index(min(gaps))
        ranges[i : i + 2] = [(ranges[i][0], ranges[i + 1][1])]
    return tuple(ranges)


def uncovered(interval: Interval, known: Sequence[Interval]) -> list[Interval]:
    """The parts of `interval` outside the merged ranges `known`, in order."""
    start, end = interval
    parts: list[Interval] = []
    for k_start, k_end in known:
        if k_end <= start:
            continue
        if k_start >= end:
            break
        if k_start > start:
            parts.append((start, k_start))
        start = max(start, k_end)
    if start < end:
        parts.append((start, end))
    return parts


def add(known: Coverage, played: Sequence[Interval], *, elapsed: float | None) -> Coverage:
    """`known` plus a heartbeat's `played` ranges, the gain capped by `elapsed` seconds
    since the previous heartbeat (None: the first one, which may add only the slack)."""
    allowance = SLACK_SECONDS + MAX_SPEED * max(0.0, elapsed or 0.0)
    gained: list[Interval] = []
    for interval in merge(clip(played, known.duration)):
        for start, end in uncovered(interval, known.intervals):
            take = min(end - start, allowance)
            if take <= 0:
                break
            gained.append((start, start + take))
            allowance -= take
    return Coverage(_bounded(merge([*known.intervals, *gained])), known.duration)
