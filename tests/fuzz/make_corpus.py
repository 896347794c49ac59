"""Write the seed corpus of the Yjs fuzz tests: `python tests/fuzz/make_corpus.py`.

Each file of `corpus/seeds/` is one case, `<base>__<label>.bin`: y-websocket frames, each as
lib0 varBytes, sent to a live document that starts as base `<base>` (tests/fuzz/fuzzbases.py).
The seeds are what real clients send: pycrdt edits with fixed client ids covering every
content kind Yjs writes, GC and Skip structs, delete sets, state vectors, awareness, auth and
query-awareness messages. `corpus/crashers/` holds the inputs that once broke the ingest path
(written here too, see `crashers`); every one of them also has a test in test_regressions.py.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pycrdt
from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

sys.path.insert(0, str(Path(__file__).parent))

import fuzzformat as f
from fuzzbases import base_doc

CORPUS = Path(__file__).parent / "corpus"


def edit(base: str, client: int, change: Callable[[Doc[Any]], None]) -> bytes:
    """What client `client` sends after `change` on a synced copy of `base`."""
    doc = base_doc(base, client)
    before = doc.get_state()
    change(doc)
    update: bytes = doc.get_update(before)
    return update


def awareness(*entries: tuple[int, int, Any]) -> bytes:
    payload = f.AwarenessPayload(
        tuple(f.AwarenessEntry(c, k, json.dumps(s).encode()) for c, k, s in entries)
    )
    return f.awareness_frame(f.encode_awareness(payload))


def _text(doc: Doc[Any]) -> None:
    doc.get("t", type=Text).insert(0, "héllo 😀 wörld")


def _continue7(doc: Doc[Any]) -> None:
    text = doc.get("t", type=Text)
    text.insert(len(text), "!")
    del text[0:2]


def _format(doc: Doc[Any]) -> None:
    notes = doc.get("notes", type=Text)
    notes.format(0, 5, {"italic": True, "link": {"href": "https://example.org"}})
    notes.insert(3, "ñ")


def _embed(doc: Doc[Any]) -> None:
    text = doc.get("t", type=Text)
    text.format(0, 5, {"italic": True})
    text.insert_embed(3, {"formula": "e^{i\\pi}"})


def _any_values(doc: Doc[Any]) -> None:
    shapes = doc.get("shapes", type=Map)
    shapes["s4"] = {
        "kind": "poly",
        "points": [0, -1.5, 2**40, -(2**31)],
        "style": {"stroke": None, "dash": [True, False], "label": "ünï"},
        "z": 4,
    }
    shapes["s5"] = Map({"kind": "rect", "nested": Map({"deeper": Array([1, "two", None])})})


def binary() -> bytes:
    """Binary content (kind 3), as Yjs writes a Uint8Array put in a Y.Array (pycrdt writes
    bytes as an `Any` buffer instead): at the start of the whiteboard's pages."""
    item = f.Item(f.Binary(b"\x00\xffbinary"), parent="pages")
    return f.encode_update(f.Update((f.Group(14, 0, (item,)),)))


def _xml(doc: Doc[Any]) -> None:
    rich = doc.get("prosemirror", type=XmlFragment)
    items = rich.children.append(XmlElement("bullet_list"))
    item = items.children.append(XmlElement("list_item", {"checked": "false"}))
    text = item.children.append(XmlText("item"))
    text.format(0, 2, {"strong": True})


def _subdoc(doc: Doc[Any]) -> None:
    doc.get("m", type=Map)["child"] = Doc(guid="child-document")


def _deletions(doc: Doc[Any]) -> None:
    notes = doc.get("notes", type=Text)
    del notes[0 : len(notes) // 2]
    rich = doc.get("prosemirror", type=XmlFragment)
    del rich.children[0]


def offline_edits() -> bytes:
    """A client that was offline: its whole document, with deleted (GC'd) content, as the
    step 2 answering the server's step 1."""
    doc: Doc[Any] = Doc(client_id=21)
    text = doc.get("notes", type=Text)
    text.insert(0, "typed offline, then ")
    shapes = doc.get("shapes", type=Map)
    shapes["gone"] = Map({"kind": "rect", "inner": Map({"x": 1})})
    del shapes["gone"]
    del text[0:6]
    return f.sync_step2(doc.get_update())


def skip_update() -> bytes:
    """Updates 1 and 3 of a client merged: the gap is a Skip struct."""
    doc: Doc[Any] = Doc(client_id=22)
    text = doc.get("t", type=Text)
    parts = []
    for word in ("one ", "two ", "three"):
        before = doc.get_state()
        text.insert(len(text), word)
        parts.append(doc.get_update(before))
    return pycrdt.merge_updates(parts[0], parts[2])


def seeds() -> dict[str, list[bytes]]:
    cursor = {"user": {"name": "Ada", "color": "#30bced"}, "cursor": {"anchor": 3, "head": 7}}
    return {
        "empty__text-string": [f.sync_update(edit("empty", 11, _text))],
        "text7__continue-client7": [f.sync_update(edit("text7", 7, _continue7))],
        "notes__format": [f.sync_update(edit("notes", 12, _format))],
        "text7__embed": [f.sync_update(edit("text7", 12, _embed))],
        "whiteboard__any-values-maps": [f.sync_update(edit("whiteboard", 13, _any_values))],
        "whiteboard__binary": [f.sync_update(binary())],
        "notes__xml": [f.sync_update(edit("notes", 15, _xml))],
        "mixed__subdocument": [f.sync_update(edit("mixed", 16, _subdoc))],
        "notes__deletions": [f.sync_update(edit("notes", 17, _deletions))],
        "empty__offline-step2-gc": [offline_edits()],
        "text7__step1-empty": [f.sync_step1(b"\x00")],
        "mixed__step1-edges": [
            f.sync_step1(f.state_vector([(2**32 - 1, 2**31 - 1), (2**53 - 1, 2**53 - 1), (7, 0)]))
        ],
        "empty__awareness-cursor": [awareness((31, 1, cursor))],
        "empty__awareness-remove": [awareness((31, 1, cursor)), awareness((31, 2, None))],
        "empty__query-awareness": [b"\x03"],
        "empty__auth-denied": [b"\x02\x00" + f.var_string("read-only")],
        "notes__session": [
            f.sync_step1(b"\x00"),
            awareness((32, 1, cursor)),
            f.sync_update(edit("notes", 32, _format)),
            f.sync_update(edit("notes", 33, _deletions)),
            b"\x03",
            awareness((32, 2, None)),
        ],
    }


def crashers() -> dict[str, list[bytes]]:
    """Inputs that once broke the ingest path (see test_regressions.py for each)."""
    item = f.Item(f.String("hi"), parent="t")
    return {
        # A gap in a client's clocks (a Skip struct): Yrs would keep the rest pending.
        "text7__skip-pending": [f.sync_update(skip_update())],
        # The Yrs panic: client 7 holds clocks 0-10; this item ends past 2**32.
        "text7__clock-overflow": [
            f.sync_update(f.encode_update(f.Update((f.Group(7, 2**32 - 1, (item,)),))))
        ],
        # An awareness state nested past Python's recursion limit: RecursionError escaped.
        "empty__awareness-deep-json": [
            f.awareness_frame(
                f.encode_awareness(
                    f.AwarenessPayload((f.AwarenessEntry(1, 1, b"[" * 5000 + b"]" * 5000),))
                )
            )
        ],
        # JSON content (kind 2): Yrs reads one string more; no client could sync afterwards.
        "empty__json-content": [f.sync_update(json_content())],
        # A clock past 2**31 - 1 after a gap: the document's state vector then missed clock 0.
        "empty__clock-gap-2pow31": [
            f.sync_update(f.encode_update(f.Update((f.Group(1, 2**31 - 1, (item,)),)))),
            f.sync_update(f.encode_update(f.Update((f.Group(1, 0, (item,)),)))),
        ],
        # Two struct groups of one client: a map with a child, and a binary item at its id.
        "empty__two-groups-one-client": [f.sync_update(two_groups())],
        # An empty struct group at a client's current clock: Yrs panicked.
        "text7__empty-group": [f.sync_update(bytes.fromhex("0100070b00"))],
        # One batch: a formatted insert, a write Yrs panics on, the insert again from
        # another origin. The harness proved the third write on a copy without the first.
        "empty__refused-between-proven": [
            f.sync_update(REFUSED_BETWEEN_PROVEN[0]),
            f.sync_update(REFUSED_BETWEEN_PROVEN[1]),
            f.sync_update(REFUSED_BETWEEN_PROVEN[2]),
        ],
    }


REFUSED_BETWEEN_PROVEN = (
    bytes.fromhex("010307000601017404626f6c640474727565840700017886070004626f6c64046e756c6c00"),
    bytes.fromhex("0201070027010174046e65737401010100010007000100"),
    bytes.fromhex("010307000601017404626f6c640474727565840700017886070104626f6c64046e756c6c00"),
)


def json_content() -> bytes:
    item = f.Item(f.Json(("1",)), parent="t")
    return f.encode_update(f.Update((f.Group(1, 0, (item,)),), deletes=((1, ()),)))


def two_groups() -> bytes:
    first = f.Group(
        1,
        0,
        (
            f.Item(f.Type(1), parent="t", parent_sub="nest"),
            f.Item(f.Type(0), parent=f.ID(1, 0)),
        ),
    )
    second = f.Group(1, 0, (f.Item(f.Binary(b""), parent="t"),))
    return f.encode_update(f.Update((first, second)))


def main() -> None:
    for folder, cases in (("seeds", seeds()), ("crashers", crashers())):
        (CORPUS / folder).mkdir(parents=True, exist_ok=True)
        for name, frames in cases.items():
            (CORPUS / folder / f"{name}.bin").write_bytes(f.encode_frames(frames))
            print(folder, name, sum(map(len, frames)), "bytes")


if __name__ == "__main__":
    main()
