"""Active speaker detection from RFC 6464 audio levels (pure; no decoding).

Each audio packet may carry ``(voice, level)`` with level in -dBov (0 loudest, 127
silence). The detector keeps a smoothed loudness per user and, at most every ``interval``
seconds, names the loudest user above the threshold; it reports only changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SILENCE = 127


def loudness(level_dbov: int) -> float:
    """A level in -dBov as 0.0 (silence) … 1.0 (full scale)."""
    return round((SILENCE - min(max(level_dbov, 0), SILENCE)) / SILENCE, 2)


@dataclass
class SpeakerDetector:
    """Who speaks loudest, smoothed, evaluated at most every ``interval`` seconds."""

    interval: float = 0.5
    threshold_dbov: int = 50  # quieter than -50 dBov is not speech
    smoothing: float = 0.3
    current: str | None = None
    _levels: dict[str, float] = field(default_factory=dict)
    _last_eval: float | None = None

    def add(self, user_id: str, level_dbov: int) -> None:
        """Feed one packet's level for ``user_id``."""
        sample = float(SILENCE - min(max(level_dbov, 0), SILENCE))
        previous = self._levels.get(user_id, 0.0)
        self._levels[user_id] = previous + self.smoothing * (sample - previous)

    def forget(self, user_id: str) -> None:
        """Drop a user who stopped publishing audio."""
        self._levels.pop(user_id, None)
        if self.current == user_id:
            self.current = None

    def evaluate(self, now: float) -> tuple[str, float] | None:
        """``(user_id, loudness)`` of a new active speaker, or None (too soon, no change)."""
        if self._last_eval is not None and now - self._last_eval < self.interval:
            return None
        self._last_eval = now
        if not self._levels:
            return None
        user_id, smoothed = max(self._levels.items(), key=lambda item: item[1])
        if smoothed < SILENCE - self.threshold_dbov or user_id == self.current:
            return None
        self.current = user_id
        return user_id, loudness(round(SILENCE - smoothed))
