"""The documents a fuzz case starts from, and the pycrdt edits that make real updates.

Every base is built by pycrdt with fixed client ids, so its bytes are the same on every run
and the clocks a strategy aims at (client 7 holds clocks 0-10 of `text7`) are known.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

SERVER_CLIENT: Final = 999_999
"""The live document's own client id (the server never writes with it)."""


def _text7(doc: Doc[Any]) -> None:
    """Client 7 typed 11 characters into Y.Text `t`, one item each (the Yrs panic's setting)."""
    text = doc.get("t", type=Text)
    for char in "hello world":
        text.insert(len(text), char)


def _whiteboard(doc: Doc[Any]) -> None:
    shapes = doc.get("shapes", type=Map)
    shapes["s1"] = Map({"kind": "rect", "x": 10, "y": 20, "z": 1, "fill": "#f00"})
    shapes["s2"] = {"kind": "line", "points": [0, 0, 5, 5], "z": 0}
    shapes["s3"] = Map({"kind": "text", "text": Text("label"), "z": 2})
    doc.get("meta", type=Map).update({"title": "Board", "grid": True, "zoom": 1.5})
    doc.get("pages", type=Array).append(Map({"name": "page 1"}))
    del shapes["s2"]
    shapes["s2"] = {"kind": "ellipse", "z": 3}


def _notes(doc: Doc[Any]) -> None:
    text = doc.get("notes", type=Text)
    text.insert(0, "Hello world, 😀 notes")
    text.format(0, 5, {"bold": True})
    del text[6:8]
    rich = doc.get("prosemirror", type=XmlFragment)
    heading = rich.children.append(XmlElement("heading", {"level": "1"}))
    heading.children.append(XmlText("Title"))
    paragraph = rich.children.append(XmlElement("paragraph"))
    body = paragraph.children.append(XmlText("some rich text"))
    body.format(0, 4, {"em": True})


def _mixed(doc: Doc[Any]) -> None:
    """Several clients, near-boundary client ids, deletions, binary, a subdocument."""
    for client, word in ((2**32 - 1, "max"), (1, "one"), (2**53 - 1, "js")):
        writer: Doc[Any] = Doc(client_id=client)
        writer.apply_update(doc.get_update())
        text = writer.get("t", type=Text)
        text.insert(len(text) // 2, word)
        if len(text) > 2:
            del text[0:1]
        writer.get("a", type=Array).append(word.encode())
        doc.apply_update(writer.get_update(doc.get_state()))
    doc.get("m", type=Map)["sub"] = Doc(guid="subdocument")
    doc.get("m", type=Map)["n"] = Map({"deep": Map({"deeper": Array([1, [2, [3]]])})})


@dataclass(frozen=True)
class Base:
    client: int
    build: Callable[[Doc[Any]], None]
    kind: str | None = None
    """The room document kind whose nesting policy the live document applies (None: none)."""


BASES: Final[dict[str, Base]] = {
    "empty": Base(1, lambda doc: None),
    "text7": Base(7, _text7),
    "whiteboard": Base(3, _whiteboard, "whiteboard"),
    "notes": Base(5, _notes, "notes"),
    "mixed": Base(2, _mixed),
}


@cache
def base_update(name: str) -> bytes:
    """The whole base document as one update (b"" for an empty one)."""
    base = BASES[name]
    doc: Doc[Any] = Doc(client_id=base.client)
    base.build(doc)
    return doc.get_update() if name != "empty" else b""


def base_doc(name: str, client: int = SERVER_CLIENT) -> Doc[Any]:
    doc: Doc[Any] = Doc(client_id=client)
    if update := base_update(name):
        doc.apply_update(update)
    return doc


# ---------------------------------------------------------------- edits by a real client

Edit = tuple[str, int, int, str, Any]
"""(operation, position, length, text, value); positions wrap around the target's length."""

EDIT_OPS: Final = (
    "text-insert",
    "text-delete",
    "text-format",
    "text-embed",
    "map-set",
    "map-delete",
    "array-insert",
    "array-delete",
    "xml-element",
    "xml-text",
    "xml-delete",
    "subdoc",
)


def _shared(value: Any, nest: int) -> Any:
    """Turn a plain value into a shared type now and then (`nest` picks which)."""
    match nest % 5:
        case 1:
            return Map({"v": value})
        case 2:
            return Array([value])
        case 3:
            return Text(str(value))
    return value


def apply_edit(doc: Doc[Any], edit: Edit) -> None:
    """One edit a y-websocket client could make; edits pycrdt refuses are skipped.

    pycrdt also panics on some local edits (a range deleted from a Y.Text that holds an
    embed, counted in other units than `len`); such a client just sends what it has.
    """
    op, position, length, text, value = edit
    try:
        _edit(doc, op, position, length, text, value)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: S110 (a client whose edit failed)
        pass


def _edit(doc: Doc[Any], op: str, position: int, length: int, text: str, value: Any) -> None:
    if op.startswith("text"):
        root = doc.get("notes" if "notes" in doc.keys() else "t", type=Text)  # noqa: SIM118
        size = len(root)
        at = position % (size + 1)
        if op == "text-insert":
            root.insert(at, text or "x", {"bold": True} if length % 3 == 0 else None)
        elif op == "text-delete" and size:
            at %= size
            del root[at : at + 1 + length % (size - at)]
        elif op == "text-format" and size:
            root.format(at % size, min(size, at + 1 + length), {text or "em": value})
        elif op == "text-embed":
            root.insert_embed(at, {"embed": value})
    elif op.startswith("map"):
        shapes = doc.get("shapes", type=Map)
        key = text or str(position % 7)
        if op == "map-set":
            shapes[key] = _shared(value, length)
        elif key in shapes:
            del shapes[key]
    elif op.startswith("array"):
        pages = doc.get("pages", type=Array)
        at = position % (len(pages) + 1)
        if op == "array-insert":
            pages.insert(at, _shared(value, length))
        elif len(pages):
            del pages[at % len(pages)]
    elif op.startswith("xml"):
        rich = doc.get("prosemirror", type=XmlFragment)
        children = rich.children
        if op == "xml-element":
            attrs = {text or "a": str(value)} if length % 2 else {}
            element = children.append(XmlElement((text.isalpha() and text) or "p", attrs))
            element.children.append(XmlText(str(value)))
        elif op == "xml-text":
            node = children.append(XmlText(text))
            if len(node):
                node.format(0, len(node), {"code": True})
        elif len(children):
            del children[position % len(children)]
    elif op == "subdoc":
        root = "shapes" if position % 2 else "m"
        doc.get(root, type=Map)[text or "doc"] = Doc(guid=f"guid-{position}")


def edited_update(base: str, client: int, edits: Sequence[Edit]) -> bytes:
    """What client `client` sends after making `edits` on a synced copy of `base`."""
    doc = base_doc(base, client)
    before = doc.get_state()
    for edit in edits:
        apply_edit(doc, edit)
    return doc.get_update(before)
