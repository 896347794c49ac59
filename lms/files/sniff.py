"""What a file is, from its first bytes (magic numbers), never from its name."""

from __future__ import annotations

OCTET_STREAM = "application/octet-stream"
SNIFF_BYTES = 4096

_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\x1a\x45\xdf\xa3", "video/webm"),  # EBML: refined below (webm or matroska)
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"fLaC", "audio/flac"),
    (b"PK\x03\x04", "application/zip"),  # refined below (OOXML)
    (b"PK\x05\x06", "application/zip"),
)
_OOXML = (
    (b"word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (b"ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
)
INLINE_TYPES = frozenset(
    {"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain"}
)
"""Types a browser may show in place; everything else (HTML, SVG, scripts, executables,
unknown bytes) is served as an attachment."""


def sniff(head: bytes) -> str:
    """The content type of a file that starts with ``head`` (its first 4 KiB suffice)."""
    for prefix, kind in _PREFIXES:
        if head.startswith(prefix):
            return _refine(head, kind)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "video/quicktime" if brand == b"qt  " else "video/mp4"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "audio/mpeg"  # an MPEG audio frame sync without an ID3 tag
    if _is_text(head):
        return "text/plain; charset=utf-8"
    return OCTET_STREAM


def _refine(head: bytes, kind: str) -> str:
    if kind == "video/webm":
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if kind == "application/zip":
        for marker, ooxml in _OOXML:
            if marker in head[:SNIFF_BYTES]:
                return ooxml
    return kind


def _is_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not merely a character cut at the end
            return False
        text = head[: exc.start].decode("utf-8")
    lowered = text.lstrip().lower()
    if lowered.startswith(("<!doctype html", "<html", "<script", "<svg", "<?xml")):
        return False  # markup a browser would run: never called text
    return all(ch.isprintable() or ch in "\t\r\n\f" for ch in text)


def may_show_inline(content_type: str) -> bool:
    """Whether a link may ask for ``inline`` (media and documents browsers show safely)."""
    base = content_type.split(";")[0].strip()
    return base in INLINE_TYPES or base.startswith(("video/", "audio/"))
