"""No update may cut an astral character (an emoji) between its two UTF-16 units.

Yjs counts a Y.Text in UTF-16 units, so an astral character takes two clocks, and an item
may name any clock as its origin, right origin or the end of a deleted range. Yrs keeps
text as UTF-8 and cannot split a character: after such a cut it encodes the document with
its clocks shifted (one short, or bytes no client can load), so every client syncing from it
gets another document (found by tests/fuzz, docs/fuzzing.md). Editors never place a cursor
inside a character, so the cut is refused: `inspect_update` notes the second units an update
writes and the ids it cuts before, and `AstralIndex` remembers the second units a document
holds. Yrs also drops the character when asked for a diff from a state vector that ends
between its units (a client claiming half of it): `WholeCharacters` sends the whole one.
"""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Final

import pycrdt

from realtime.yjs.errors import YjsError
from realtime.yjs.messages import decode_state_vector, encode_state_vector
from realtime.yjs.update_format import (
    ID,
    InvalidUpdate,
    StructureLimits,
    UpdateShape,
    inspect_update,
)

SPLIT: Final = "the update cuts a character in two"
_FOUR_BYTE_LEAD: Final = re.compile(rb"[\xf0-\xf4]")
"""The lead byte of a 4-byte UTF-8 sequence: an update without one writes no astral text."""
_UNCAPPED: Final = StructureLimits(max_depth=2**31, max_elements=2**62)


@dataclass
class AstralIndex:
    """The ids of the second UTF-16 units of the astral characters a document holds."""

    halves: set[ID] = field(default_factory=set)

    @classmethod
    def of_state(cls, state: bytes) -> AstralIndex:
        """The index of a document given as one update (its whole state, already trusted)."""
        if not _FOUR_BYTE_LEAD.search(state):
            return cls()
        try:
            return cls(set(inspect_update(state, _UNCAPPED).halves))
        except YjsError:  # stored before the structure checks: cuts of it are not refused
            return cls()

    def check(self, shape: UpdateShape) -> None:
        """Refuse an update (`inspect_update`'s shape) that cuts a character of the document
        or of its own text in two."""
        if shape.cuts and (self.halves or shape.halves):
            own = set(shape.halves)
            if any(cut in self.halves or cut in own for cut in shape.cuts):
                raise InvalidUpdate(SPLIT)

    def add(self, shape: UpdateShape) -> None:
        """Remember the astral characters an update writes."""
        self.halves.update(shape.halves)

    def add_update(self, update: bytes) -> None:
        """Remember the astral characters of an update not inspected yet (another node's)."""
        if _FOUR_BYTE_LEAD.search(update):
            # Applied already: refusing it is not this index's job.
            with suppress(YjsError):
                self.add(inspect_update(update, _UNCAPPED))

    def whole(self, state_vector: bytes) -> bytes:
        """`state_vector`, lowered where it ends between the two units of a character (the
        holder then gets all of it again, which a Yjs client takes as already known)."""
        if not self.halves:
            return state_vector
        state = decode_state_vector(state_vector)
        cut = {client for client, clock in state.items() if (client, clock) in self.halves}
        if not cut:
            return state_vector
        return encode_state_vector({c: k - 1 if c in cut else k for c, k in state.items()})


@dataclass(frozen=True)
class WholeCharacters:
    """A live document as the sync protocol sees it (`sync.YDocument`): a diff never starts
    inside a character."""

    doc: pycrdt.Doc[Any]
    astral: AstralIndex

    def get_state(self) -> bytes:
        return self.doc.get_state()

    def get_update(self, state: bytes | None = None, /) -> bytes:
        if state is None:
            return self.doc.get_update()
        return self.doc.get_update(self.astral.whole(state))

    def apply_update(self, update: bytes, /) -> None:
        self.doc.apply_update(update)
