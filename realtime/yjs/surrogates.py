"""No update may cut an astral character (an emoji) between its two UTF-16 units.

Yjs counts a Y.Text in UTF-16 units, so an astral character takes two clocks, and an item
may name any clock as its origin, right origin or the end of a deleted range. Yrs keeps
text as UTF-8 and cannot split a character: after such a cut it encodes the document with
its clocks shifted (one short, or bytes no client can load), so every client syncing from it
gets another document (found by tests/fuzz, docs/fuzzing.md). Editors never place a cursor
inside a character, so the cut is refused: `inspect_update` notes the second units an update
writes and the ids it cuts before, and `AstralIndex` remembers the second units a document
holds.
"""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Final

from realtime.yjs.errors import YjsError
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
