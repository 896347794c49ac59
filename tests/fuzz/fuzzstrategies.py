"""Hypothesis strategies for the Yjs ingest path: y-websocket frames around real documents.

Three sources of update bytes, mixed in every case:
- structured updates (`fuzzformat.Update`): struct groups of items of every content kind,
  GC and Skip structs, origins, right origins and parents, nested lib0 `Any` values and JSON,
  delete sets; clients and clocks are drawn near the edges (2**31 - 1, the last clock
  `inspect_update` allows, 2**32 - 1, 2**53 - 1) and near the base documents' own clocks
  (`Clocks`), so items continue a client and point at structs that exist;
- real updates: what a pycrdt client sends after editing a synced copy of the base document,
  each frame continuing the same client's edits;
- mutations of real updates: bytes flipped, inserted, deleted, duplicated or truncated, and
  varUints swapped for boundary values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

import fuzzformat as f
from fuzzbases import BASES, EDIT_OPS, Edit, apply_edit, base_doc
from hypothesis import reject
from hypothesis import strategies as st

from realtime.yjs.messages import decode_state_vector

KNOWN_CLIENTS: Final = (1, 2, 3, 5, 7, 11, 2**31, 2**32 - 1, 2**32, 2**53 - 1, 0)
"""Clients of the base documents first (7 holds clocks 0-10 of `text7`), then edges."""
EDGE_CLOCKS: Final = (
    2**31 - 16,
    2**31 - 3,
    2**31 - 2,
    2**31 - 1,
    2**31,
    2**32 - 16,
    2**32 - 3,
    2**32 - 2,
    2**32 - 1,
    2**32,
    2**32 + 1,
    2**53 - 1,
)
EDGE_LENGTHS: Final = (2**31 - 2, 2**31, 2**32 - 12, 2**32 - 1, 2**32, 2**53 - 1)
ROOT_NAMES: Final = ("t", "notes", "prosemirror", "shapes", "meta", "pages", "m", "a", "")

clients = st.one_of(st.sampled_from(KNOWN_CLIENTS), st.integers(0, 2**53 - 1))
near_clocks = st.integers(0, 40)
clocks = st.one_of(
    near_clocks, st.sampled_from(EDGE_CLOCKS), st.integers(0, 2**32 + 16), st.integers(0, 2**53 - 1)
)
lengths = st.one_of(st.integers(0, 12), st.sampled_from(EDGE_LENGTHS))
ids = st.builds(f.ID, clients, st.one_of(near_clocks, clocks))
texts = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["hi", "😀", "a\x00b", "\ud800", "x" * 64, "é", "\U0010ffff"]),
    st.text(st.characters(categories=["Cs", "Co", "Cn"]), max_size=4),
)
keys = st.one_of(st.sampled_from(["k", "x", "z", "kind", "text", "s1", ""]), st.text(max_size=6))
roots = st.one_of(st.sampled_from(ROOT_NAMES), st.text(max_size=6))

# ---------------------------------------------------------------- JSON texts

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


def _deep_json(depth: int, shape: int) -> str:
    match shape:
        case 0:
            return "[" * depth + "]" * depth
        case 1:
            return '{"a":' * depth + "1" + "}" * depth
        case 2:
            return "[" * depth  # unbalanced
        case _:
            return '["\\"[' * depth + "]" * depth  # brackets hidden in strings


deep_json = st.builds(
    _deep_json,
    st.one_of(st.integers(60, 70), st.integers(1, 200), st.integers(900, 6000)),
    st.integers(0, 3),
)
json_texts = st.one_of(
    json_values.map(json.dumps),
    deep_json,
    st.sampled_from(
        ["undefined", "null", "NaN", "-Infinity", "", "{", "[1,", '"\\ud800"', "1e999", "tru"]
    ),
    st.text(max_size=16),
)

# ---------------------------------------------------------------- lib0 Any values

any_leaves = st.one_of(
    st.sampled_from([f.AnyValue(f.UNDEFINED), f.AnyValue(f.NULL)]),
    st.sampled_from([f.AnyValue(f.TRUE), f.AnyValue(f.FALSE)]),
    st.builds(
        f.AnyValue,
        st.just(f.INTEGER),
        st.one_of(st.integers(-(2**53), 2**53), st.integers(-(2**70), 2**70)),
    ),
    st.builds(f.AnyValue, st.just(f.FLOAT64), st.floats()),
    st.builds(f.AnyValue, st.just(f.FLOAT32), st.binary(min_size=4, max_size=4)),
    st.builds(f.AnyValue, st.just(f.BIGINT), st.integers(-(2**63), 2**63 - 1)),
    st.builds(f.AnyValue, st.just(f.STRING), texts),
    st.builds(f.AnyValue, st.just(f.BUFFER), st.binary(max_size=8)),
    st.builds(f.AnyValue, st.integers(0, 115) | st.integers(128, 255)),  # unknown tags
)
any_values = st.one_of(
    st.recursive(
        any_leaves,
        lambda inner: (
            st.builds(f.AnyValue, st.just(f.ARRAY), st.lists(inner, max_size=4))
            | st.builds(f.AnyValue, st.just(f.OBJECT), st.lists(st.tuples(keys, inner), max_size=4))
        ),
        max_leaves=10,
    ),
    st.builds(
        f.nested_any,
        st.one_of(st.integers(60, 70), st.integers(100, 3000)),
        leaf=st.none() | any_leaves,
    ),
)

# ---------------------------------------------------------------- structured updates

contents: st.SearchStrategy[f.Content] = st.one_of(
    st.builds(f.Deleted, lengths),
    st.builds(f.Json, st.lists(json_texts, max_size=3).map(tuple)),
    st.builds(f.Binary, st.binary(max_size=16)),
    st.builds(f.String, texts),
    st.builds(f.Embed, json_texts),
    st.builds(f.Format, keys, json_texts),
    st.builds(
        f.Type,
        st.one_of(st.integers(0, 6), st.integers(7, 20), st.sampled_from([2**32, 2**53 - 1])),
        st.text(max_size=6),
    ),
    st.builds(f.Anys, st.lists(any_values, max_size=3).map(tuple)),
    st.builds(f.SubDoc, st.text(max_size=8), any_values),
    st.builds(f.Unknown, st.integers(11, 31), st.binary(max_size=4)),
)
items = st.builds(
    f.Item,
    contents,
    st.none() | ids,
    st.none() | ids,
    st.one_of(roots, ids),
    st.none() | keys,
)
structs: st.SearchStrategy[f.Struct] = st.one_of(
    items, items, items, st.builds(f.GC, lengths), st.builds(f.Skip, lengths)
)


@dataclass
class Clocks:
    """The next clock of each client as a case goes on (the base's, then what was sent), so
    structured groups can continue a client and their items point at structs that exist."""

    next: dict[int, int]

    @classmethod
    def of(cls, base: str) -> Clocks:
        return cls(decode_state_vector(base_doc(base).get_state()))

    def ids(self) -> st.SearchStrategy[f.ID]:
        known = [(c, k) for c, k in self.next.items() if k]
        if not known:
            return ids
        existing = st.sampled_from(known).flatmap(
            lambda pair: st.builds(f.ID, st.just(pair[0]), st.integers(0, pair[1] - 1))
        )
        return st.one_of(existing, existing, ids)

    def start(self, client: int) -> st.SearchStrategy[int]:
        here = self.next.get(client, 0)
        return st.one_of(st.just(here), st.just(here), st.integers(0, here + 2), clocks)

    def sent(self, group: f.Group) -> None:
        length = sum(_length(struct) for struct in group.structs)
        if group.clock == self.next.get(group.client, 0) and length < 2**31:
            self.next[group.client] = group.clock + length


def _length(struct: f.Struct) -> int:
    if isinstance(struct, f.GC | f.Skip):
        return struct.length
    content = struct.content
    if isinstance(content, f.Deleted):
        return content.length
    if isinstance(content, f.String):
        return len(content.text.encode("utf-16-le", "surrogatepass")) // 2
    if isinstance(content, f.Anys):
        return len(content.values)
    if isinstance(content, f.Json):
        return len(content.texts)
    return 1


@st.composite
def plausible_items(draw: st.DrawFn, known: Clocks) -> f.Item:
    """An item among the document's own: origins and parents are ids that exist."""
    at = known.ids()
    origin = draw(st.none() | at)
    right = draw(st.none() | at)
    parent = draw(st.one_of(st.sampled_from(ROOT_NAMES), at))
    return f.Item(draw(contents), origin, right, parent, draw(st.none() | keys))


@st.composite
def type_chains(draw: st.DrawFn, client: int, clock: int) -> tuple[f.Struct, ...]:
    """Shared types each inside the previous one, `depth` levels below a root, in one group."""
    depth = draw(st.one_of(st.integers(1, 40), st.integers(28, 36), st.integers(60, 300)))
    type_ref = draw(st.sampled_from([0, 1, 3, 4]))
    name = "p" if type_ref == 3 else ""
    sub = "k" if type_ref == 1 else None
    chain: list[f.Struct] = [f.Item(f.Type(1), parent=draw(roots), parent_sub="nest")]
    chain += [
        f.Item(f.Type(type_ref, name), parent=f.ID(client, clock + level), parent_sub=sub)
        for level in range(depth - 1)
    ]
    if draw(st.booleans()):
        chain.append(f.Item(f.String("leaf"), parent=f.ID(client, clock + depth - 1)))
    return tuple(chain)


@st.composite
def groups(draw: st.DrawFn, known: Clocks) -> f.Group:
    client = draw(st.one_of(st.sampled_from(sorted(known.next) or [7]), clients))
    clock = draw(known.start(client))
    shape = draw(st.integers(0, 3))
    if shape == 0:
        found: tuple[f.Struct, ...] = tuple(draw(st.lists(structs, max_size=5)))
    elif shape == 3:
        found = draw(type_chains(client, clock))
    else:
        found = tuple(draw(st.lists(plausible_items(known), min_size=1, max_size=5)))
    group = f.Group(client, clock, found)
    known.sent(group)
    return group


@st.composite
def structured_updates(draw: st.DrawFn, known: Clocks) -> bytes:
    found = draw(st.lists(groups(known), max_size=3))
    ranges = st.one_of(st.tuples(clocks, lengths), st.tuples(near_clocks, st.integers(0, 4)))
    deletes = draw(
        st.lists(
            st.tuples(
                st.one_of(st.sampled_from(sorted(known.next) or [7]), clients),
                st.lists(ranges, max_size=3).map(tuple),
            ),
            max_size=3,
        )
    )
    count = draw(st.none() | st.integers(0, 4))
    return f.encode_update(f.Update(tuple(found), tuple(deletes), count))


# ---------------------------------------------------------------- byte-level mutations

MUTATIONS: Final = ("flip", "set", "insert", "delete", "edge", "duplicate", "truncate")
EDGE_VAR_UINTS: Final = tuple(
    f.var_uint(v) for v in (2**31 - 2, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**53 - 1, 2**60)
)
Mutation = tuple[str, int, int]

mutations = st.lists(
    st.tuples(st.sampled_from(MUTATIONS), st.integers(0, 2**16), st.integers(0, 255)),
    min_size=1,
    max_size=4,
)


def mutate(data: bytes, steps: list[Mutation]) -> bytes:
    """Apply byte-level mutations; positions wrap around the current length."""
    buf = bytearray(data)
    for op, position, value in steps:
        at = position % (len(buf) + 1)
        inside = at < len(buf)
        if op == "flip" and inside:
            buf[at] ^= 1 << (value % 8)
        elif op == "set" and inside:
            buf[at] = value
        elif op == "insert":
            buf.insert(at, value)
        elif op == "delete" and inside:
            del buf[at]
        elif op == "edge":  # swap the varUint starting at `at` for a boundary value
            end = at
            while end < len(buf) and buf[end] & 0x80:
                end += 1
            buf[at : end + 1] = EDGE_VAR_UINTS[value % len(EDGE_VAR_UINTS)]
        elif op == "duplicate":
            buf[at:at] = buf[at : at + 1 + value % 8]
        elif op == "truncate":
            del buf[at:]
    return bytes(buf)


# ---------------------------------------------------------------- real clients' edits

edit_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.binary(min_size=1, max_size=8),
    st.lists(st.integers(0, 9), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(0, 9), max_size=3),
)
edits: st.SearchStrategy[Edit] = st.tuples(
    st.sampled_from(EDIT_OPS),
    st.integers(0, 64),
    st.integers(0, 8),
    st.text(max_size=6),
    edit_values,
)


@dataclass
class Writer:
    """A real client editing its synced copy of the base; each update continues the last."""

    base: str
    client: int
    doc: Any = None
    sent: list[bytes] = field(default_factory=list)

    def update(self, steps: list[Edit]) -> bytes:
        if self.doc is None:
            self.doc = base_doc(self.base, self.client)
        before = self.doc.get_state()
        for step in steps:
            apply_edit(self.doc, step)
        try:
            update: bytes = self.doc.get_update(before)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:
            # An edit pycrdt panicked on left this client's own copy broken (Yrs then panics
            # encoding it: "attempt to divide by zero"); such a client sends nothing more.
            reject()
        return update


# ---------------------------------------------------------------- frames


@st.composite
def state_vectors(draw: st.DrawFn, base: str) -> bytes:
    choice = draw(st.integers(0, 3))
    if choice == 0:  # the base's own state, perhaps with one clock moved
        doc = base_doc(base)
        state: bytes = doc.get_state()
        return mutate(state, draw(mutations)) if draw(st.booleans()) else state
    if choice == 1:
        return draw(st.binary(max_size=12))
    pairs = draw(st.lists(st.tuples(clients, clocks), max_size=4))
    return f.state_vector(pairs)


awareness_states = st.one_of(
    json_values.map(lambda v: json.dumps({"user": v})),
    st.just("null"),
    deep_json,
    st.sampled_from(["NaN", "Infinity", '{"a":NaN}', "{}", "", "nul", "[]", '"x"', "1e999"]),
    st.text(max_size=12),
).map(lambda s: s.encode("utf-8", "surrogatepass"))
awareness_entries = st.builds(
    f.AwarenessEntry,
    st.one_of(st.sampled_from(KNOWN_CLIENTS), st.integers(0, 2**64)),
    st.one_of(st.integers(0, 5), st.sampled_from([2**32 - 1, 2**53 - 2, 2**53 - 1, 2**53])),
    awareness_states | st.binary(max_size=8),
)
awareness_payloads = st.builds(
    f.AwarenessPayload,
    st.lists(awareness_entries, max_size=10).map(tuple),
    st.none() | st.integers(0, 12) | st.just(2**53 - 1),
    st.just(b"") | st.binary(max_size=3),
).map(f.encode_awareness)
auth_frames = st.builds(
    lambda sub, reason: b"\x02" + f.var_uint(sub) + f.var_bytes(reason),
    st.just(0) | st.just(0) | st.integers(0, 2) | st.integers(0, 2**53 + 5),
    st.text(max_size=12).map(lambda s: s.encode("utf-8", "surrogatepass")) | st.binary(max_size=6),
)


@st.composite
def update_bytes(draw: st.DrawFn, writer: Writer, known: Clocks) -> bytes:
    source = draw(st.integers(0, 5))
    if source <= 1:
        return draw(structured_updates(known))
    if source == 5:
        return draw(st.binary(max_size=24))
    if source == 3 and writer.sent:  # an older update again, or out of order
        return draw(st.sampled_from(writer.sent))
    real = writer.update(draw(st.lists(edits, min_size=1, max_size=4)))
    writer.sent.append(real)
    return real if source != 4 else mutate(real, draw(mutations))


@st.composite
def frames(draw: st.DrawFn, base: str, writer: Writer, known: Clocks) -> bytes:
    kind = draw(st.integers(0, 9))
    if kind <= 3:
        update = draw(update_bytes(writer, known))
        return f.sync_update(update) if kind < 3 else f.sync_step2(update)
    if kind == 4:
        return f.sync_step1(draw(state_vectors(base)))
    if kind == 5:
        return f.awareness_frame(draw(awareness_payloads))
    if kind == 6:
        return draw(auth_frames)
    if kind == 7:
        return b"\x03" + draw(st.just(b"") | st.binary(max_size=2))
    if kind == 8:  # a whole frame mangled: type bytes, lengths, truncation
        inner = draw(frames(base, writer, known))
        return mutate(inner, draw(mutations))
    return draw(st.binary(max_size=16))


@dataclass(frozen=True)
class Case:
    """Frames sent to a live document that starts as base `base`.

    `flushes` are the frames after which the write pipeline runs (updates accepted by the
    frames before it are proven and stored as one batch, as `LiveDocument` merges updates
    queued in one event-loop turn); it always runs after the last frame.
    """

    base: str
    frames: tuple[bytes, ...]
    flushes: frozenset[int] | None = None
    read_only: frozenset[int] = frozenset()
    """Sessions (counted from 0, a new one after each refusal) that are read-only."""

    def flushes_after(self, index: int) -> bool:
        return self.flushes is None or index in self.flushes or index == len(self.frames) - 1


@st.composite
def cases(draw: st.DrawFn, max_frames: int = 6, bases: tuple[str, ...] = ()) -> Case:
    base = draw(st.sampled_from(bases or sorted(BASES)))
    writer = Writer(base, draw(st.sampled_from([7, 11, 2**32 - 1, BASES[base].client])))
    known = Clocks.of(base)
    sent = tuple(draw(st.lists(frames(base, writer, known), min_size=1, max_size=max_frames)))
    flushes = draw(st.none() | st.frozensets(st.integers(0, len(sent) - 1)))
    read_only = draw(st.just(frozenset[int]()) | st.frozensets(st.integers(0, 4), max_size=2))
    return Case(base, sent, flushes, read_only)
