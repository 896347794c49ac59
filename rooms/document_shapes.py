"""What a room document may hold: its root shared types, and how deeply they may nest.

The whiteboard is `shapes` (Y.Map of shape id -> Y.Map of fields), `meta` (Y.Map) and
`pages` (Y.Array of Y.Map); the notes are `notes` (Y.Text, Markdown) and `prosemirror`
(Y.XmlFragment, rich text). Readers of these documents (the web app, the REST reads) must
never meet a structure nested thousands of levels deep, so every update that adds a shared
type below a root is checked on the document's trial copy against `MAX_TYPE_DEPTH`
(values inside one update are capped by `realtime.yjs.update_format.StructureLimits`).
"""

from __future__ import annotations

from typing import Final

import pycrdt

from realtime.yjs.nesting import RootTypes, depth_policy
from realtime.yjs.yrs import Policy
from rooms.documents import parse_document_name

MAX_TYPE_DEPTH: Final = 32
"""Deepest shared type below a room document's root (rich-text lists nest a few levels)."""

ROOTS: Final[dict[str, RootTypes]] = {
    "whiteboard": {"shapes": pycrdt.Map, "meta": pycrdt.Map, "pages": pycrdt.Array},
    "notes": {"notes": pycrdt.Text, "prosemirror": pycrdt.XmlFragment},
}
_POLICIES: Final = {kind: depth_policy(roots, MAX_TYPE_DEPTH) for kind, roots in ROOTS.items()}


def structure_policy(name: str) -> Policy | None:
    """The trial check for document `name`: the room documents' nesting cap, else none."""
    parsed = parse_document_name(name)
    return _POLICIES[parsed[1]] if parsed is not None else None
