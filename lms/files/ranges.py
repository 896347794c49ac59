"""HTTP range requests (RFC 9110 section 14), Sans-I/O: which byte ranges to send, and the
If-Range and If-None-Match rules (``lms.files.answers`` builds every download's answer on
them)."""

from __future__ import annotations

import re

MAX_RANGES = 16
_SPEC = re.compile(r"\s*(\d*)\s*-\s*(\d*)\s*")


class Unsatisfiable(Exception):
    """No requested range overlaps the representation (416)."""


def parse_range(header: str | None, size: int) -> list[tuple[int, int]] | None:
    """The ``[start, end)`` ranges to send, merged and in order; None means the whole
    representation (no header, a unit other than bytes, or a malformed one)."""
    if not header:
        return None
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or not specs:
        return None
    found: list[tuple[int, int]] = []
    for spec in specs.split(",")[: MAX_RANGES * 4]:
        match = _SPEC.fullmatch(spec)
        if match is None or match.group(1) == match.group(2) == "":
            return None
        first, last = match.groups()
        if first == "":
            length = int(last)
            if length == 0:
                continue
            found.append((max(0, size - length), size))
            continue
        start = int(first)
        end = size if last == "" else min(int(last) + 1, size)
        if last != "" and int(last) < start:
            return None
        if start < size:
            found.append((start, end))
    if not found:
        raise Unsatisfiable
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    if len(merged) > MAX_RANGES:
        return None  # too many pieces: send the whole thing once
    return merged


def if_range_holds(if_range: str | None, etag: str, last_modified: str) -> bool:
    """Whether ``If-Range`` allows a partial answer (a strong ETag or the exact date)."""
    if if_range is None:
        return True
    if if_range.startswith("W/"):
        return False
    return if_range in (etag, last_modified)


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weakly) or is ``*``."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(","))
