"""File names from clients made safe to store and to put in a download's header."""

from __future__ import annotations

import unicodedata

MAX_NAME = 200
FALLBACK = "file"
# Format characters that reorder or hide text (RTL override "evil\u202efdp.exe" and kin).
_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def safe_name(raw: str | None) -> str:
    """The last path segment of ``raw``, NFC-normalised, without control or bidi-override
    characters, without leading dots, at most 200 characters (the extension kept)."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in name if ch not in _BIDI and unicodedata.category(ch) not in ("Cc", "Cf")
    )
    name = " ".join(name.split()).lstrip(".").strip()
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: MAX_NAME - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_NAME].rstrip()
    return name or FALLBACK
