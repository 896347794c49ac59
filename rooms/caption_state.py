"""What a room holds of its captions: who may caption, whether automatic captions are on,
and the recent final lines (for the welcome snapshot; the whole transcript is in the
``caption_lines`` table). Pure data, kept by the reducers in ``rooms/captions.py``."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

CAPTION_TAIL = 50
"""Final lines a snapshot carries (a reconnecting viewer's panel is refilled from them)."""


@dataclass
class CaptionState:
    """A room's captioners (user ids), its automatic-captions switch and its recent lines."""

    captioners: set[str] = field(default_factory=set)
    auto: bool = False
    lines: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=CAPTION_TAIL))

    def has_line(self, line_id: str) -> bool:
        """Whether a line is among the recent ones (reducers ignore a repeated event)."""
        return any(line["id"] == line_id for line in self.lines)

    def view(self) -> dict[str, Any]:
        """The snapshot's ``captions``: captioners, the switch, the recent lines."""
        return {
            "captioners": sorted(self.captioners),
            "auto": self.auto,
            "lines": [dict(line) for line in self.lines],
        }
