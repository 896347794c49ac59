"""A room's transcript as WebVTT, time-aligned with a recording (pure).

Each final caption line becomes one cue, its times counted from ``origin`` (the
recording's start) and clipped to the recording; the speaker is named with a WebVTT voice
span (``<v Ada>``), which players show or read out. Cues are sorted by start; two speakers'
lines may overlap (players show both).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    """What a cue needs of a stored line."""

    speaker: str
    text: str
    start: datetime
    end: datetime


def timestamp(seconds: float) -> str:
    """WebVTT's ``hh:mm:ss.ttt``."""
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _escape(text: str) -> str:
    """Cue text may not hold ``&``, ``<`` or ``-->`` literally, nor blank lines."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(text.split())


def webvtt(
    lines: Iterable[TranscriptLine],
    *,
    origin: datetime,
    until: datetime | None = None,
    title: str = "",
) -> str:
    """The lines as a WebVTT file, times relative to ``origin``, clipped to ``until``."""
    limit = (until - origin).total_seconds() if until is not None else None
    cues: list[tuple[float, float, str]] = []
    for item in sorted(lines, key=lambda entry: entry.start):
        text = _escape(item.text)
        if not text:
            continue
        start = max(0.0, (item.start - origin).total_seconds())
        end = (item.end - origin).total_seconds()
        if limit is not None:
            end = min(end, limit)
        if end <= start:
            continue
        speaker = _escape(item.speaker)
        cues.append((start, end, f"<v {speaker}>{text}" if speaker else text))
    out = ["WEBVTT" + (f" - {_escape(title)}" if title else ""), ""]
    for index, (start, end, text) in enumerate(cues):
        out += [str(index + 1), f"{timestamp(start)} --> {timestamp(end)}", text, ""]
    return "\n".join(out)
