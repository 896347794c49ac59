"""HLS playlists: reading a rendition's media playlist, writing the master playlist.

FFmpeg writes each rendition's media playlist; the master is ours (as PeerTube does), so it
states what players need to choose a rendition before fetching any: ``BANDWIDTH`` (the peak
segment bitrate, as RFC 8216 defines it), ``AVERAGE-BANDWIDTH``, ``RESOLUTION``,
``FRAME-RATE`` and ``CODECS`` with the H.264 profile and level read from the encoder's SPS
(hls.js and Safari refuse a rendition whose CODECS they cannot decode, so a guess is worse
than the truth).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Segment:
    """One media segment: its URI (relative to its playlist) and duration in seconds."""

    uri: str
    duration: float


@dataclass(frozen=True)
class MediaPlaylist:
    """A parsed VOD media playlist."""

    target_duration: int
    init: str | None
    segments: tuple[Segment, ...]
    ended: bool

    @property
    def duration(self) -> float:
        """The sum of the segments' durations."""
        return sum(s.duration for s in self.segments)


@dataclass(frozen=True)
class Variant:
    """One rendition as the master playlist lists it."""

    uri: str
    bandwidth: int
    average_bandwidth: int
    width: int
    height: int
    frame_rate: float
    codecs: str


class PlaylistError(ValueError):
    """A playlist that does not parse."""


def parse_media(text: str) -> MediaPlaylist:
    """Parse a media playlist (PlaylistError if it is not one)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise PlaylistError("not an M3U8 playlist")
    target, init, ended = 0, None, False
    segments: list[Segment] = []
    pending: float | None = None
    for line in lines[1:]:
        if line.startswith("#EXT-X-TARGETDURATION:"):
            target = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-MAP:"):
            init = _attributes(line.split(":", 1)[1]).get("URI")
        elif line.startswith("#EXTINF:"):
            pending = float(line.split(":", 1)[1].split(",", 1)[0])
        elif line == "#EXT-X-ENDLIST":
            ended = True
        elif not line.startswith("#"):
            if pending is None:
                raise PlaylistError(f"segment {line!r} has no #EXTINF")
            segments.append(Segment(line, pending))
            pending = None
    return MediaPlaylist(target, init, tuple(segments), ended)


def _attributes(text: str) -> dict[str, str]:
    """An attribute list (``A=1,B="x,y"``) as a dict, quotes removed."""
    out: dict[str, str] = {}
    key, value, quoted, reading_key = "", "", False, True
    for char in text + ",":
        if reading_key:
            if char == "=":
                reading_key = False
            elif char != ",":
                key += char
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            out[key.strip()] = value
            key, value, reading_key = "", "", True
        else:
            value += char
    return out


def parse_master(text: str) -> list[Variant]:
    """The variants of a master playlist (PlaylistError if it is not one)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise PlaylistError("not an M3U8 playlist")
    variants: list[Variant] = []
    pending: dict[str, str] | None = None
    for line in lines[1:]:
        if line.startswith("#EXT-X-STREAM-INF:"):
            pending = _attributes(line.split(":", 1)[1])
        elif not line.startswith("#") and pending is not None:
            width, height = (int(v) for v in pending["RESOLUTION"].split("x"))
            variants.append(
                Variant(
                    line,
                    int(pending["BANDWIDTH"]),
                    int(pending.get("AVERAGE-BANDWIDTH", pending["BANDWIDTH"])),
                    width,
                    height,
                    float(pending.get("FRAME-RATE", "0")),
                    pending.get("CODECS", ""),
                )
            )
            pending = None
    return variants


def bandwidths(playlist_path: Path) -> tuple[int, int]:
    """(peak, average) bitrate in bit/s of the rendition whose media playlist is at
    ``playlist_path``, from its segments' sizes on disk (the init segment counts towards
    the average)."""
    playlist = parse_media(playlist_path.read_text())
    folder = playlist_path.parent
    peak, total = 0.0, 0
    for segment in playlist.segments:
        size = (folder / segment.uri).stat().st_size
        total += size
        if segment.duration > 0:
            peak = max(peak, size * 8 / segment.duration)
    if playlist.init:
        total += (folder / playlist.init).stat().st_size
    duration = playlist.duration
    average = round(total * 8 / duration) if duration > 0 else 0
    return max(round(peak), average), average


def avc1_codecs(extradata: bytes) -> str:
    """``avc1.PPCCLL`` from H.264 extradata (an avcC record or Annex B with an SPS);
    ``avc1.640028`` (High 4.0) if it holds neither."""
    if len(extradata) >= 4 and extradata[0] == 1:
        return f"avc1.{extradata[1:4].hex()}"
    for start in _annexb_starts(extradata):
        if start < len(extradata) and extradata[start] & 0x1F == 7 and start + 4 <= len(extradata):
            return f"avc1.{extradata[start + 1 : start + 4].hex()}"
    return "avc1.640028"


def _annexb_starts(data: bytes) -> list[int]:
    starts: list[int] = []
    index = data.find(b"\x00\x00\x01")
    while index >= 0:
        starts.append(index + 3)
        index = data.find(b"\x00\x00\x01", index + 3)
    return starts


def master(variants: list[Variant]) -> str:
    """The master playlist listing ``variants`` (highest first is not required; players
    sort by BANDWIDTH; we list them from the smallest up so the first is a safe start)."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for v in sorted(variants, key=lambda v: v.bandwidth):
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={v.bandwidth},AVERAGE-BANDWIDTH={v.average_bandwidth},"
            f'RESOLUTION={v.width}x{v.height},FRAME-RATE={v.frame_rate:.3f},CODECS="{v.codecs}"'
        )
        lines.append(v.uri)
    return "\n".join(lines) + "\n"
