"""A structural check of Yjs v1 updates, in pure Python, before Yrs ever sees the bytes.

Some well-formed updates make Yrs panic when applied: an item whose clock plus length
overflows Yrs' 32-bit clock space, or a delete range past it. A panic mid-integration leaves
a pycrdt document half-changed, so such bytes must be refused before they reach the live
document or the update log. `inspect_update` decodes the whole update (struct groups, items
with every content kind, the delete set) iteratively, checks each range against the clock
space, and measures what the room documents cap: how many elements one update carries and
how deeply its values nest. The decoding follows the format of yjs' `UpdateDecoderV1` and
lib0's `readAny`; it is the cheap half of the proof (`realtime.yjs.proof` runs the other).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from realtime.yjs.errors import MalformedMessage
from realtime.yjs.lib0 import Reader

CLOCK_SPACE: Final = 2**31 - 1
"""Every struct and delete range must end at or below this clock. Yrs keeps clocks as u32,
but some of its clock arithmetic is i32: past 2**31 - 1, an item after a gap can leave the
document's state vector short of clocks it holds (found by tests/fuzz, test_regressions.py),
and one ending past 2**32 makes it panic. No client comes near it: one client id would have
to make two billion edits."""


ID = tuple[int, int]
"""A struct id: (client, clock)."""

LEGACY_JSON: Final = "JSON content (kind 2) is not accepted"
"""Yjs has written `Any` content (kind 8) since v13 and reads kind 2 only from old documents.
Yrs reads one string more than kind 2's count says (`while remaining >= 0` in its
`ItemContent::decode`), so it sees other structs than this decoder does, and a document
holding such an item encodes into bytes that neither Yrs nor Yjs can read back: every client
syncing from scratch would fail (found by tests/fuzz, see test_regressions.py)."""


class InvalidUpdate(MalformedMessage):
    """The update does not decode, or names clocks Yrs cannot hold (closes with 1002)."""

    default_reason = "invalid Yjs update"


class UpdateTooComplex(MalformedMessage):
    """The update nests values deeper, or carries more elements, than the document allows."""

    default_reason = "Yjs update too deeply nested or too large"


@dataclass(frozen=True, slots=True, kw_only=True)
class StructureLimits:
    """Caps on one update's shape (see docs/protocol.md, "Document limits")."""

    max_depth: int = 64
    """Deepest nesting of a JSON or `Any` value (an object or array in an object ...)."""
    max_elements: int = 1_000_000
    """Structs, delete ranges and `Any` values in one update, together."""


@dataclass(frozen=True, slots=True)
class UpdateShape:
    """What `inspect_update` found: sizes, and whether new shared types nest below a root."""

    structs: int
    deletes: int
    elements: int
    depth: int
    nested_types: bool
    reaches: Mapping[int, int] = field(default_factory=dict)
    """Per client, the clock just past the last struct or deleted range the update names: a
    document that took the update holds at least that much of the client, or a part of the
    update waits (pending) for changes it does not have."""
    halves: tuple[ID, ...] = ()
    """The ids of the second UTF-16 units of the astral characters the update writes."""
    cuts: tuple[ID, ...] = ()
    """Ids the update cuts before: after each origin, at each right origin, at each end of
    a deleted range."""


def inspect_update(data: bytes, limits: StructureLimits | None = None) -> UpdateShape:
    """Decode a whole v1 update; raise `InvalidUpdate` or `UpdateTooComplex` on a bad one."""
    return _Inspection(data, limits or StructureLimits()).run()


class _Inspection:
    __slots__ = (
        "cuts",
        "depth",
        "elements",
        "halves",
        "limits",
        "nested_types",
        "reaches",
        "reader",
    )

    def __init__(self, data: bytes, limits: StructureLimits) -> None:
        self.reader = Reader(data)
        self.limits = limits
        self.elements = 0
        self.depth = 0
        self.nested_types = False
        self.reaches: dict[int, int] = {}
        self.halves: list[tuple[int, int]] = []
        self.cuts: list[tuple[int, int]] = []

    def run(self) -> UpdateShape:
        try:
            structs = self._structs()
            deletes = self._delete_set()
            self.reader.expect_end()
        except (InvalidUpdate, UpdateTooComplex):
            raise
        except MalformedMessage as exc:
            raise InvalidUpdate(f"invalid Yjs update: {exc.reason}") from exc
        return UpdateShape(
            structs,
            deletes,
            self.elements,
            self.depth,
            self.nested_types,
            self.reaches,
            tuple(self.halves),
            tuple(self.cuts),
        )

    def _count(self, n: int = 1) -> None:
        self.elements += n
        if self.elements > self.limits.max_elements:
            raise UpdateTooComplex(f"more than {self.limits.max_elements} elements in one update")

    def _structs(self) -> int:
        """Struct groups: one per client, none empty, no struct of length 0, as Yjs writes
        them (found by tests/fuzz, see test_regressions.py). Yjs reads a second group of a
        client *instead of* the first, so two groups could claim the same clocks with
        different structs, and Yrs then stores a document that no client can load; an empty
        group at its client's current clock makes Yrs panic; a struct of length 0 shares its
        id with the next one (Yrs writes one after an insert inside a UTF-8 character), and
        Yrs then integrates the update otherwise one by one than merged, so the document
        differs from its own log after a reload."""
        read = self.reader.read_var_uint
        total = 0
        clients: set[int] = set()
        for _ in range(read()):
            count, client, clock = read(), read(), read()
            if client in clients or not count:
                raise InvalidUpdate(f"client {client} has an empty or a second struct group")
            clients.add(client)
            self._count(count)
            total += count
            for _ in range(count):
                length = self._struct(client, clock)
                if not length:  # see `_structs`
                    raise InvalidUpdate(f"a struct of client {client} has length 0")
                clock = _advance(client, clock, length)
            self.reaches[client] = clock
        return total

    def _struct(self, client: int, clock: int) -> int:
        """One struct's length in clock units; it is struct (`client`, `clock`)."""
        reader = self.reader
        info = reader.read_bytes(1)[0]
        ref = info & 0x1F
        if ref in (0, 10):  # GC, Skip
            return reader.read_var_uint()
        origin = _id(reader, client, clock) if info & 0x80 else None
        if origin is not None:
            self.cuts.append((origin[0], origin[1] + 1))
        if info & 0x40:
            right = _id(reader, client, clock)
            if right == origin:
                raise InvalidUpdate(f"item ({client}, {clock}) has one id as both neighbours")
            self.cuts.append(right)
        explicit_parent = not info & 0xC0
        if explicit_parent:
            if reader.read_var_uint() == 1:
                reader.read_var_string()  # a root's name
                root_parent = True
            else:
                _id(reader, client, clock)
                root_parent = False
            if info & 0x20:
                reader.read_var_string()  # the key in a map
        else:
            root_parent = False
        if ref == 7 and not root_parent:
            self.nested_types = True
        return self._content(ref, client, clock)

    def _content(self, ref: int, client: int, clock: int) -> int:
        reader = self.reader
        match ref:
            case 1:  # deleted
                return reader.read_var_uint()
            case 2:  # JSON strings: refused, see `LEGACY_JSON`
                raise InvalidUpdate(LEGACY_JSON)
            case 3:  # binary
                reader.read_var_bytes()
                return 1
            case 4:  # string: its length is counted in UTF-16 code units
                text = reader.read_var_string()
                units = len(text.encode("utf-16-le")) // 2
                if units != len(text):
                    self._astral(text, client, clock)
                return units
            case 5:  # embed
                self._json(reader.read_var_string())
                return 1
            case 6:  # format
                reader.read_var_string()
                self._json(reader.read_var_string())
                return 1
            case 7:  # a shared type
                type_ref = reader.read_var_uint()
                if type_ref > 6:
                    raise InvalidUpdate(f"unknown shared type {type_ref}")
                if type_ref in (3, 5):
                    reader.read_var_string()
                return 1
            case 8:  # Any values
                length = reader.read_var_uint()
                for _ in range(length):
                    self._any()
                return length
            case 9:  # a subdocument
                reader.read_var_string()
                self._any()
                return 1
        raise InvalidUpdate(f"unknown content kind {ref}")

    def _astral(self, text: str, client: int, clock: int) -> None:
        """Note the clock of each astral character's second UTF-16 unit (`surrogates.py`)."""
        for char in text:
            if char > "\uffff":
                clock += 1
                self.halves.append((client, clock))
            clock += 1

    def _json(self, text: str) -> None:
        """Measure a JSON text's nesting without parsing it (Yrs parses it)."""
        depth = deepest = 0
        quoted = escaped = False
        for char in text:
            if quoted:
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = True
                elif char == '"':
                    quoted = False
            elif char == '"':
                quoted = True
            elif char in "[{":
                depth += 1
                deepest = max(deepest, depth)
            elif char in "]}":
                depth -= 1
        self._nest(deepest)

    def _nest(self, depth: int) -> None:
        self.depth = max(self.depth, depth)
        if depth > self.limits.max_depth:
            raise UpdateTooComplex(f"values nest deeper than {self.limits.max_depth} levels")

    def _any(self) -> None:
        """One lib0 `Any` value, walked with an explicit stack (no recursion).

        Each open array or object is a [values left, is object] pair; an object's values
        are each preceded by a key.
        """
        reader = self.reader
        stack: list[list[int]] = [[1, 0]]
        while stack:
            level = stack[-1]
            if level[0] == 0:
                stack.pop()
                continue
            level[0] -= 1
            if level[1]:
                reader.read_var_string()
            self._count()
            tag = reader.read_bytes(1)[0]
            if tag == 125:
                _var_int(reader)
            elif tag == 124:
                reader.read_bytes(4)
            elif tag in (123, 122):
                reader.read_bytes(8)
            elif tag == 119:
                reader.read_var_string()
            elif tag == 116:
                reader.read_var_bytes()
            elif tag in (118, 117):
                stack.append([reader.read_var_uint(), int(tag == 118)])
                self._nest(len(stack) - 1)
            elif tag not in (127, 126, 121, 120):
                raise InvalidUpdate(f"unknown Any tag {tag}")

    def _delete_set(self) -> int:
        read = self.reader.read_var_uint
        total = 0
        for _ in range(read()):
            client, ranges = read(), read()
            self._count(ranges)
            total += ranges
            for _ in range(ranges):
                start, length = read(), read()
                if start + length > CLOCK_SPACE:
                    raise InvalidUpdate(f"delete range of client {client} ends past 2**31 - 1")
                if length:
                    self.reaches[client] = max(self.reaches.get(client, 0), start + length)
                    self.cuts += ((client, start), (client, start + length))
        return total


def _advance(client: int, clock: int, length: int) -> int:
    end = clock + length
    if end > CLOCK_SPACE:
        raise InvalidUpdate(f"a struct of client {client} ends past clock 2**31 - 1")
    return end


def _id(reader: Reader, client: int, clock: int) -> tuple[int, int]:
    """An origin, right origin or parent of item (`client`, `clock`). An item only refers to
    structs that existed when it was made, so never to itself or a later clock of its own
    client: pycrdt writes such an item after an insert inside a UTF-8 character, and Yrs
    then integrates it otherwise one by one than merged (found by tests/fuzz). Nor is one
    id both its left and its right neighbour: Yrs takes such an item, and later inserts
    around it land out of order (found by tests/fuzz)."""
    other = reader.read_var_uint()
    at = reader.read_var_uint()
    if at >= CLOCK_SPACE:
        raise InvalidUpdate("an item refers to a clock past 2**31 - 1")
    if other == client and at >= clock:
        raise InvalidUpdate(f"item ({client}, {clock}) refers to itself or a later clock")
    return other, at


def _var_int(reader: Reader) -> None:
    """lib0 varInt: 6 bits and a sign in the first byte, then 7 bits a byte."""
    first = reader.read_bytes(1)[0]
    if not first & 0x80:
        return
    for _ in range(8):
        if not reader.read_bytes(1)[0] & 0x80:
            return
    raise InvalidUpdate("varInt too long")
