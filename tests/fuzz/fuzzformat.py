"""An encoder of Yjs v1 updates and y-websocket frames for the fuzz strategies.

It writes whatever it is given, valid or not: clocks past Yrs' u32 space, parents that do not
exist, content kinds nobody defines. The layout follows yjs' `UpdateEncoderV1` (struct groups
of items with their origin, right origin and parent info, then the delete set) and lib0's
`writeAny`; `realtime.yjs.update_format` decodes the same layout.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from struct import pack
from typing import TypeAlias

from realtime.yjs.lib0 import Reader

# ---------------------------------------------------------------- lib0 primitives


def var_uint(value: int) -> bytes:
    """A lib0 varUint of any non-negative size (lib0's reader stops at 2**53 - 1; we do not)."""
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def var_int(value: int) -> bytes:
    """A lib0 varInt: continue bit, sign bit and 6 bits first, then 7 bits a byte."""
    negative = value < 0
    magnitude = -value if negative else value
    first = (0x40 if negative else 0) | (magnitude & 0x3F)
    magnitude >>= 6
    out = bytearray([first | (0x80 if magnitude else 0)])
    while magnitude:
        out.append((magnitude & 0x7F) | (0x80 if magnitude > 0x7F else 0))
        magnitude >>= 7
    return bytes(out)


def var_bytes(data: bytes) -> bytes:
    return var_uint(len(data)) + data


def var_string(text: str) -> bytes:
    """varString as lib0 writes it: UTF-8 byte length, then the bytes (lone surrogates kept)."""
    return var_bytes(text.encode("utf-8", "surrogatepass"))


# ---------------------------------------------------------------- lib0 Any values


@dataclass(frozen=True)
class AnyValue:
    """One lib0 `Any` value with its exact tag (Python values lose float32 vs float64 etc.).

    `payload` holds: an int (varInt, bigint), a float (float64), 4 raw bytes (float32),
    a bool, a str, raw bytes (buffer), a list of values (array), or a list of (key, value)
    pairs (object); nothing for undefined and null.
    """

    tag: int
    payload: object = None


UNDEFINED, NULL, INTEGER, FLOAT32, FLOAT64, BIGINT = 127, 126, 125, 124, 123, 122
FALSE, TRUE, STRING, OBJECT, ARRAY, BUFFER = 121, 120, 119, 118, 117, 116


def encode_any(value: AnyValue) -> bytes:
    """lib0 `writeAny`, iteratively (fuzzed values may nest thousands of levels deep)."""
    out = bytearray()
    stack: list[AnyValue | bytes] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, bytes):
            out += item
            continue
        out.append(item.tag)
        payload = item.payload
        if item.tag == INTEGER:
            assert isinstance(payload, int)
            out += var_int(payload)
        elif item.tag == BIGINT:
            assert isinstance(payload, int)
            out += payload.to_bytes(8, "big", signed=True)
        elif item.tag == FLOAT64:
            assert isinstance(payload, float)
            out += pack(">d", payload)
        elif item.tag == FLOAT32:
            assert isinstance(payload, bytes) and len(payload) == 4
            out += payload
        elif item.tag == STRING:
            assert isinstance(payload, str)
            out += var_string(payload)
        elif item.tag == BUFFER:
            assert isinstance(payload, bytes)
            out += var_bytes(payload)
        elif item.tag == ARRAY:
            assert isinstance(payload, list)
            out += var_uint(len(payload))
            stack.extend(reversed(payload))
        elif item.tag == OBJECT:
            assert isinstance(payload, list)
            out += var_uint(len(payload))
            for key, child in reversed(payload):
                stack.append(child)
                stack.append(var_string(key))
        # undefined, null, true, false and unknown tags carry nothing
    return bytes(out)


def nested_any(depth: int, *, leaf: AnyValue | None = None) -> AnyValue:
    """An array in an array ... `depth` levels deep (built without recursion)."""
    value = leaf or AnyValue(NULL)
    for level in range(depth):
        value = AnyValue(ARRAY, [value]) if level % 2 else AnyValue(OBJECT, [("k", value)])
    return value


# ---------------------------------------------------------------- structs


@dataclass(frozen=True)
class ID:
    client: int
    clock: int


@dataclass(frozen=True)
class Deleted:
    length: int
    ref = 1


@dataclass(frozen=True)
class Json:
    texts: tuple[str, ...]
    ref = 2


@dataclass(frozen=True)
class Binary:
    data: bytes
    ref = 3


@dataclass(frozen=True)
class String:
    text: str
    ref = 4


@dataclass(frozen=True)
class Embed:
    json: str
    ref = 5


@dataclass(frozen=True)
class Format:
    key: str
    json: str
    ref = 6


@dataclass(frozen=True)
class Type:
    """A shared type: 0 Array, 1 Map, 2 Text, 3 XmlElement (named), 4 XmlFragment, 5 XmlHook
    (named), 6 XmlText; anything else is an unknown type."""

    type_ref: int
    name: str = ""
    ref = 7


@dataclass(frozen=True)
class Anys:
    values: tuple[AnyValue, ...]
    ref = 8


@dataclass(frozen=True)
class SubDoc:
    guid: str
    options: AnyValue
    ref = 9


@dataclass(frozen=True)
class Unknown:
    """A content kind no decoder defines (10 is Skip, so 11-31), followed by junk."""

    ref: int
    junk: bytes = b""


Content: TypeAlias = (
    Deleted | Json | Binary | String | Embed | Format | Type | Anys | SubDoc | Unknown
)


@dataclass(frozen=True)
class Item:
    content: Content
    origin: ID | None = None
    right_origin: ID | None = None
    parent: str | ID | None = "t"
    """A root's name or the item of a shared type; written only without origins."""
    parent_sub: str | None = None
    """The key in a map; written only without origins (its flag is set regardless)."""


@dataclass(frozen=True)
class GC:
    length: int


@dataclass(frozen=True)
class Skip:
    length: int


Struct: TypeAlias = Item | GC | Skip


@dataclass(frozen=True)
class Group:
    """Consecutive structs of one client, starting at `clock`."""

    client: int
    clock: int
    structs: tuple[Struct, ...]


@dataclass(frozen=True)
class Update:
    groups: tuple[Group, ...] = ()
    deletes: tuple[tuple[int, tuple[tuple[int, int], ...]], ...] = ()
    """(client, ((clock, length), ...)) pairs."""
    group_count: int | None = None
    """Overrides the number of groups written (a lie the decoder must catch)."""


def encode_content(content: Content) -> bytes:
    match content:
        case Deleted(length=length):
            return var_uint(length)
        case Json(texts=texts):
            return var_uint(len(texts)) + b"".join(var_string(text) for text in texts)
        case Binary(data=data):
            return var_bytes(data)
        case String(text=text):
            return var_string(text)
        case Embed(json=json):
            return var_string(json)
        case Format(key=key, json=json):
            return var_string(key) + var_string(json)
        case Type(type_ref=type_ref, name=name):
            return var_uint(type_ref) + (var_string(name) if type_ref in (3, 5) else b"")
        case Anys(values=values):
            return var_uint(len(values)) + b"".join(encode_any(v) for v in values)
        case SubDoc(guid=guid, options=options):
            return var_string(guid) + encode_any(options)
        case Unknown(junk=junk):
            return junk


def _id(value: ID) -> bytes:
    return var_uint(value.client) + var_uint(value.clock)


def encode_struct(struct: Struct) -> bytes:
    if isinstance(struct, GC):
        return bytes([0]) + var_uint(struct.length)
    if isinstance(struct, Skip):
        return bytes([10]) + var_uint(struct.length)
    info = struct.content.ref & 0x1F
    if struct.origin is not None:
        info |= 0x80
    if struct.right_origin is not None:
        info |= 0x40
    if struct.parent_sub is not None:
        info |= 0x20
    out = bytearray([info])
    if struct.origin is not None:
        out += _id(struct.origin)
    if struct.right_origin is not None:
        out += _id(struct.right_origin)
    if struct.origin is None and struct.right_origin is None:
        if isinstance(struct.parent, ID):
            out += var_uint(0) + _id(struct.parent)
        else:
            out += var_uint(1) + var_string(struct.parent or "")
        if struct.parent_sub is not None:
            out += var_string(struct.parent_sub)
    return bytes(out) + encode_content(struct.content)


def encode_update(update: Update) -> bytes:
    count = len(update.groups) if update.group_count is None else update.group_count
    out = bytearray(var_uint(count))
    for group in update.groups:
        out += var_uint(len(group.structs)) + var_uint(group.client) + var_uint(group.clock)
        for struct in group.structs:
            out += encode_struct(struct)
    out += var_uint(len(update.deletes))
    for client, ranges in update.deletes:
        out += var_uint(client) + var_uint(len(ranges))
        for clock, length in ranges:
            out += var_uint(clock) + var_uint(length)
    return bytes(out)


# ---------------------------------------------------------------- frames


def sync_step1(state_vector: bytes) -> bytes:
    return b"\x00\x00" + var_bytes(state_vector)


def sync_step2(update: bytes) -> bytes:
    return b"\x00\x01" + var_bytes(update)


def sync_update(update: bytes) -> bytes:
    return b"\x00\x02" + var_bytes(update)


def state_vector(clocks: Sequence[tuple[int, int]]) -> bytes:
    return var_uint(len(clocks)) + b"".join(var_uint(c) + var_uint(k) for c, k in clocks)


@dataclass(frozen=True)
class AwarenessEntry:
    client: int
    clock: int
    state: bytes
    """The JSON text as raw bytes (so it can be invalid UTF-8)."""


@dataclass(frozen=True)
class AwarenessPayload:
    entries: tuple[AwarenessEntry, ...] = ()
    count: int | None = None
    """Overrides the entry count written."""
    trailing: bytes = b""


def encode_awareness(payload: AwarenessPayload) -> bytes:
    count = len(payload.entries) if payload.count is None else payload.count
    out = bytearray(var_uint(count))
    for entry in payload.entries:
        out += var_uint(entry.client) + var_uint(entry.clock) + var_bytes(entry.state)
    return bytes(out) + payload.trailing


def awareness_frame(payload: bytes) -> bytes:
    return b"\x01" + var_bytes(payload)


# ---------------------------------------------------------------- reading back


@dataclass
class DeleteSet:
    """A delete set as sorted, merged ranges per client (how it is encoded does not matter)."""

    ranges: dict[int, list[tuple[int, int]]] = field(default_factory=dict)

    @classmethod
    def read(cls, reader: Reader) -> DeleteSet:
        spans: dict[int, list[tuple[int, int]]] = {}
        for _ in range(reader.read_var_uint()):
            client = reader.read_var_uint()
            for _ in range(reader.read_var_uint()):
                start = reader.read_var_uint()
                spans.setdefault(client, []).append((start, start + reader.read_var_uint()))
        merged: dict[int, list[tuple[int, int]]] = {}
        for client, found in spans.items():
            out: list[tuple[int, int]] = []
            for start, end in sorted(found):
                if end == start:
                    continue
                if out and start <= out[-1][1]:
                    out[-1] = (out[-1][0], max(out[-1][1], end))
                else:
                    out.append((start, end))
            if out:
                merged[client] = out
        return cls(dict(sorted(merged.items())))


def decode_frames(stream: bytes) -> list[bytes]:
    """A corpus file: frames, each as lib0 varBytes, one after another."""
    reader = Reader(stream)
    frames = []
    while reader.remaining:
        frames.append(reader.read_var_bytes())
    return frames


def encode_frames(frames: Sequence[bytes]) -> bytes:
    return b"".join(var_bytes(frame) for frame in frames)


Struct_: TypeAlias = tuple[object, ...]


def read_update(data: bytes) -> tuple[list[Struct_], DeleteSet]:
    """Decode a v1 update into sorted structs and its delete set, in a canonical form
    (see `read_structs`)."""
    found, deletes = read_structs(data)
    found.sort(key=lambda s: (_int(s[0]), _int(s[1])))
    merged: list[list[object]] = []
    for piece in found:
        if merged and _continues(merged[-1], piece):
            last = merged[-1]
            last[2] = _int(last[2]) + _int(piece[2])
            if last[3] == "item":
                content, more = last[-1], piece[-1]
                if isinstance(content, int) and isinstance(more, int):
                    last[-1] = content + more
                elif isinstance(content, str | tuple) and type(content) is type(more):
                    last[-1] = content + more  # type: ignore[operator]
        else:
            merged.append(piece)
    return [tuple(s) for s in merged], deletes


def read_structs(data: bytes) -> tuple[list[list[object]], DeleteSet]:
    """Every struct of a v1 update as [client, clock, length, kind, ...], as written.

    Yrs keeps JSON objects (embeds, formats, `Any` objects, a subdocument's options) in hash
    maps, so two equal documents may write their keys in different orders: keys are sorted
    here, and floats kept as their bytes (NaN equals itself then). It may also keep a run of
    text as one item or split (after a zero-length delete, say): a piece that continues the
    one before it (next clock, origin on its last unit, same right origin, same kind) is
    merged into it.
    """
    reader = Reader(data)
    found: list[list[object]] = []
    for _ in range(reader.read_var_uint()):
        count, client, clock = (
            reader.read_var_uint(),
            reader.read_var_uint(),
            reader.read_var_uint(),
        )
        for _ in range(count):
            read, length = _read_struct(reader)
            found.append([client, clock, length, *read])
            clock += length
    deletes = DeleteSet.read(reader)
    reader.expect_end()
    return found, deletes


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


def _continues(last: list[object], struct: list[object]) -> bool:
    """Whether `struct` is the rest of the run `last` (same client, next clock)."""
    client, clock, length, kind = last[:4]
    if struct[0] != client or struct[1] != _int(clock) + _int(length) or struct[3] != kind:
        return False
    if kind != "item":
        return True
    # item: [client, clock, length, "item", origin, right, parent, sub, ref, content]
    ref = last[8]
    return (
        ref in (1, 4, 8)
        and struct[8] == ref
        and struct[4] == (client, _int(clock) + _int(length) - 1)
        and struct[5] == last[5]
    )


def _read_id(reader: Reader) -> tuple[int, int]:
    return reader.read_var_uint(), reader.read_var_uint()


def _read_struct(reader: Reader) -> tuple[Struct_, int]:
    info = reader.read_bytes(1)[0]
    ref = info & 0x1F
    if ref in (0, 10):
        length = reader.read_var_uint()
        return ("gc" if ref == 0 else "skip", length), length
    origin = _read_id(reader) if info & 0x80 else None
    right = _read_id(reader) if info & 0x40 else None
    parent: object = None
    sub = None
    if not info & 0xC0:
        parent = reader.read_var_string() if reader.read_var_uint() == 1 else _read_id(reader)
        sub = reader.read_var_string() if info & 0x20 else None
    content, length = _read_content(reader, ref)
    return ("item", origin, right, parent, sub, ref, content), length


def _canonical_json(text: str) -> str:
    """Sorted keys, and floats to 6 significant digits: Yrs writes some JSON floats at f32
    precision (3.4028234659999998e+38 becomes 3.402823466e+38, which reads back as another
    double), so a format value near f32's range drifts by an ulp between copies."""
    try:
        return json.dumps(json.loads(text, parse_float=_rounded), sort_keys=True)
    except ValueError:
        return text


def _rounded(text: str) -> float:
    return float(f"{float(text):.6g}")


def _read_content(reader: Reader, ref: int) -> tuple[object, int]:
    if ref == 1:
        length = reader.read_var_uint()
        return length, length
    if ref == 2:
        texts = [_canonical_json(reader.read_var_string()) for _ in range(reader.read_var_uint())]
        return tuple(texts), len(texts)
    if ref == 3:
        return reader.read_var_bytes(), 1
    if ref == 4:
        text = reader.read_var_string()
        return text, len(text.encode("utf-16-le", "surrogatepass")) // 2
    if ref == 5:
        return _canonical_json(reader.read_var_string()), 1
    if ref == 6:
        return (reader.read_var_string(), _canonical_json(reader.read_var_string())), 1
    if ref == 7:
        type_ref = reader.read_var_uint()
        return (type_ref, reader.read_var_string() if type_ref in (3, 5) else None), 1
    if ref == 8:
        values = tuple(read_any(reader) for _ in range(reader.read_var_uint()))
        return values, len(values)
    if ref == 9:
        return (reader.read_var_string(), read_any(reader)), 1
    raise ValueError(f"unknown content {ref}")


def read_any(reader: Reader) -> object:
    """A lib0 `Any` value as a comparable Python value (objects as sorted pairs)."""
    tag = reader.read_bytes(1)[0]
    if tag == INTEGER:
        first = reader.read_bytes(1)[0]
        value, shift, more = first & 0x3F, 6, first & 0x80
        while more:
            byte = reader.read_bytes(1)[0]
            value |= (byte & 0x7F) << shift
            shift, more = shift + 7, byte & 0x80
        return ("int", -value if first & 0x40 else value)
    if tag in (FLOAT32, FLOAT64, BIGINT):
        return (tag, reader.read_bytes(4 if tag == FLOAT32 else 8))
    if tag == STRING:
        return reader.read_var_string()
    if tag == BUFFER:
        return reader.read_var_bytes()
    if tag == ARRAY:
        return ("array", tuple(read_any(reader) for _ in range(reader.read_var_uint())))
    if tag == OBJECT:
        pairs = [
            (reader.read_var_string(), read_any(reader)) for _ in range(reader.read_var_uint())
        ]
        return ("object", tuple(sorted(pairs, key=lambda pair: pair[0])))
    return (tag,)
