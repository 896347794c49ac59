"""Validating an uploaded WebVTT caption track and its language tag. Pure: bytes in, text out.

An upload is parsed (W3C WebVTT: the ``WEBVTT`` signature, cue blocks of an optional id, a
``start --> end [settings]`` line and payload lines) and written again in a normal form:
UTF-8 without BOM, ``\\n`` line ends, cues sorted by start time, times as ``hh:mm:ss.mmm``,
only the cue settings players know (vertical, line, position, size, align); NOTE, STYLE and
REGION blocks are dropped (STYLE is CSS from a stranger). Garbage (not UTF-8, no signature,
a malformed timing line, NUL bytes, no cue at all) is refused with a sentence saying where.
Capped at 2 MB and 20,000 cues: a two-hour lecture's captions are ~150 KB.

The language is a BCP 47 tag (RFC 5646 syntax: language, extlang, script, region,
variants, extensions, private use), normalised to its conventional case (``pt-BR``,
``zh-Hant-TW``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lms.video.errors import InvalidCaptions

MAX_BYTES = 2 << 20
MAX_CUES = 20_000
MAX_LINE = 1000

_TIME = re.compile(r"^(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})$")
_SETTING = re.compile(
    r"^(?:vertical:(?:rl|lr)|line:-?\d+(?:\.\d+)?%?(?:,(?:start|center|end))?"
    r"|position:\d+(?:\.\d+)?%(?:,(?:line-left|center|line-right))?|size:\d+(?:\.\d+)?%"
    r"|align:(?:start|center|end|left|right))$"
)
_LANGTAG = re.compile(
    r"^(?P<language>[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})"
    r"(?:-(?P<script>[a-z]{4}))?"
    r"(?:-(?P<region>[a-z]{2}|\d{3}))?"
    r"(?P<variants>(?:-(?:[a-z\d]{5,8}|\d[a-z\d]{3}))*)"
    r"(?P<extensions>(?:-[a-wy-z\d](?:-[a-z\d]{2,8})+)*)"
    r"(?:-x(?:-[a-z\d]{1,8})+)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Cue:
    """One caption: times in seconds, an optional id, settings and text lines."""

    start: float
    end: float
    identifier: str
    settings: str
    text: str


@dataclass(frozen=True)
class Track:
    """A validated track: its normalised WebVTT text and its cue count."""

    text: str
    cues: int


def language_tag(tag: str) -> str:
    """``tag`` as a well-formed BCP 47 tag in conventional case (InvalidCaptions if not)."""
    tag = tag.strip()
    match = _LANGTAG.match(tag) if len(tag) <= 64 else None
    if match is None:
        raise InvalidCaptions(f"{tag[:64]!r} is not a language tag (e.g. en, pt-BR, zh-Hant)")
    parts = tag.split("-")
    out: list[str] = [parts[0].lower()]
    private = False
    for part in parts[1:]:
        if private or len(part) == 1:
            private = private or part.lower() == "x"
            out.append(part.lower())
        elif len(part) == 4 and part.isalpha() and len(out) <= 4:
            out.append(part.title())
        elif len(part) == 2 and part.isalpha():
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


def parse_time(text: str) -> float:
    """A WebVTT timestamp (``mm:ss.ttt`` or ``hh:mm:ss.ttt``) in seconds."""
    match = _TIME.match(text)
    if match is None:
        raise ValueError(text)
    hours, minutes, seconds, millis = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def format_time(seconds: float) -> str:
    """Seconds as ``hh:mm:ss.mmm``."""
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _decode(data: bytes) -> list[str]:
    if len(data) > MAX_BYTES:
        raise InvalidCaptions(f"the caption file is larger than {MAX_BYTES >> 20} MB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidCaptions(f"the caption file is not UTF-8 text (byte {exc.start})") from None
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise InvalidCaptions("the caption file holds NUL bytes: it is not a WebVTT text file")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = lines[0]
    if not (first == "WEBVTT" or first.startswith(("WEBVTT ", "WEBVTT\t"))):
        raise InvalidCaptions("the caption file does not start with WEBVTT: it is not WebVTT")
    return lines


def _blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks after the header, with their first line's number."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    index = 1
    while index < len(lines) and lines[index].strip():
        index += 1  # the header block
    for number, line in enumerate(lines[index:], start=index + 1):
        if line.strip():
            if not current:
                start = number
            current.append(line)
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    return blocks


def _cue(start_line: int, block: list[str]) -> Cue | None:
    if block[0].startswith(("NOTE", "STYLE", "REGION")) and "-->" not in block[0]:
        return None
    identifier = ""
    if "-->" not in block[0]:
        identifier, block = block[0].strip(), block[1:]
        start_line += 1
        if not block or "-->" not in block[0]:
            raise InvalidCaptions(f"line {start_line}: a cue needs a 'start --> end' line")
    timing = block[0].split()
    if len(timing) < 3 or timing[1] != "-->":
        raise InvalidCaptions(f"line {start_line}: {block[0][:80]!r} is not 'start --> end'")
    try:
        begin, end = parse_time(timing[0]), parse_time(timing[2])
    except ValueError as exc:
        raise InvalidCaptions(f"line {start_line}: {str(exc)[:40]!r} is not a time") from None
    if end < begin:
        raise InvalidCaptions(f"line {start_line}: the cue ends before it starts")
    settings = [s for s in timing[3:] if _SETTING.match(s)]
    text_lines = block[1:]
    if any(len(line) > MAX_LINE for line in text_lines):
        raise InvalidCaptions(f"line {start_line}: a caption line is over {MAX_LINE} characters")
    if any("-->" in line for line in text_lines):
        raise InvalidCaptions(f"line {start_line}: a caption's text holds '-->'")
    return Cue(begin, end, identifier, " ".join(settings), "\n".join(text_lines))


def validate(data: bytes) -> Track:
    """Parse ``data`` as WebVTT and return it in normal form (InvalidCaptions if it is not
    a caption track we accept)."""
    cues: list[Cue] = []
    for start_line, block in _blocks(_decode(data)):
        cue = _cue(start_line, block)
        if cue is not None:
            cues.append(cue)
            if len(cues) > MAX_CUES:
                raise InvalidCaptions(f"the caption file has more than {MAX_CUES} cues")
    if not cues:
        raise InvalidCaptions("the caption file has no cues")
    cues.sort(key=lambda c: (c.start, c.end))
    out = ["WEBVTT", ""]
    for cue in cues:
        if cue.identifier:
            out.append(cue.identifier)
        timing = f"{format_time(cue.start)} --> {format_time(cue.end)}"
        out.append(f"{timing} {cue.settings}" if cue.settings else timing)
        if cue.text:
            out.append(cue.text)
        out.append("")
    return Track("\n".join(out), len(cues))
