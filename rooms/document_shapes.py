"""What a room document may hold: its root shared types, and how deeply they may nest.

The whiteboard is `shapes` (Y.Map of shape id -> Y.Map of fields), `meta` (Y.Map) and
`pages` (Y.Array of Y.Map); the notes are `notes` (Y.Text, Markdown) and `prosemirror`
(Y.XmlFragment, rich text). Readers of these documents (the web app, the REST reads) must
never meet a structure nested thousands of levels deep, so every update that adds a shared
type below a root is checked on the document's trial copy against `MAX_TYPE_DEPTH`
(values inside one update are capped by `realtime.yjs.update_format.StructureLimits`).
"""

from __future__ import annotations

from typing import Any, Final

import pycrdt

from realtime.yjs.nesting import RootTypes, depth_policy, existing_root
from realtime.yjs.yrs import DocumentPolicy
from rooms.documents import parse_document_name

MAX_TYPE_DEPTH: Final = 32
"""Deepest shared type below a room document's root (rich-text lists nest a few levels)."""

ROOTS: Final[dict[str, RootTypes]] = {
    "whiteboard": {"shapes": pycrdt.Map, "meta": pycrdt.Map, "pages": pycrdt.Array},
    "notes": {"notes": pycrdt.Text, "prosemirror": pycrdt.XmlFragment},
}


def notes_strays(doc: pycrdt.Doc[Any]) -> int:
    """How much of the notes' Markdown source is not characters (embeds, `Any` items, shared
    types), counted in pycrdt's units (UTF-8 bytes for characters). The editors write
    characters and formatting only; a stray item cannot even be removed (pycrdt panics
    clearing it, so a restore would fail; found by tests/fuzz), so no update may add one."""
    text = existing_root(doc, "notes", pycrdt.Text)
    return 0 if text is None else len(text) - len(str(text).encode())


POLICIES: Final = {
    "whiteboard": DocumentPolicy(nesting=depth_policy(ROOTS["whiteboard"], MAX_TYPE_DEPTH)),
    "notes": DocumentPolicy(
        nesting=depth_policy(ROOTS["notes"], MAX_TYPE_DEPTH),
        no_more=notes_strays,
        no_more_reason="the notes' text may hold characters only",
    ),
}


def structure_policy(name: str) -> DocumentPolicy | None:
    """The trial checks for document `name`: the room documents' policies, else none."""
    parsed = parse_document_name(name)
    return POLICIES[parsed[1]] if parsed is not None else None
