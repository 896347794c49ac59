"""The data model of room documents: which shared types hold what, how they read as JSON,
and how a saved version is restored as a new update (documented in `docs/protocol.md`).

Notes: `notes` (Y.Text, Markdown source) and `prosemirror` (Y.XmlFragment, rich text).
Whiteboard: `shapes` (Y.Map: shape id -> Y.Map or JSON object of shape fields) and `meta`
(Y.Map of board settings).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable
from typing import Any, Literal, cast

from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

from realtime.yjs import yrs
from realtime.yjs.nesting import map_entries, nesting_depth
from rooms.document_shapes import MAX_TYPE_DEPTH

logger = logging.getLogger("liveclass.documents")
Kind = Literal["whiteboard", "notes"]
SharedType = type[Text] | type[Map[Any]] | type[XmlFragment]

ROOTS: dict[str, dict[str, SharedType]] = {
    "notes": {"notes": Text, "prosemirror": XmlFragment},
    "whiteboard": {"shapes": Map, "meta": Map},
}
"""The root shared types of each kind of document that reads and restores cover, by name."""
_SHARED = (Map, Array, Text, XmlFragment, XmlElement, XmlText)
READ_DEPTH = MAX_TYPE_DEPTH
"""Shared types below this depth read as null and are not restored: a document stored
before the nesting cap existed can still be read, without recursion past it."""


def load(state: bytes) -> Doc[Any]:
    """A document holding `state` (a Yjs v1 update); parts that do not apply are skipped."""
    return yrs.build([state])[0]


def _root(doc: Doc[Any], name: str, kind: SharedType) -> Any:
    try:
        return doc.get(name, type=kind)
    except Exception:  # a client made this root another type: it is not part of the model
        logger.warning("document root %r is not a %s", name, kind.__name__)
        return None


def content(kind: str, state: bytes) -> dict[str, Any]:
    """The content of a document given as one update (see `doc_content`)."""
    return doc_content(kind, load(state))


def doc_content(kind: str, doc: Doc[Any]) -> dict[str, Any]:
    """The document's content as JSON: notes as Markdown and XML-ish rich text, or shapes."""
    if kind == "notes":
        text, rich = _root(doc, "notes", Text), _root(doc, "prosemirror", XmlFragment)
        if rich is not None and _too_deep(doc, {"prosemirror": XmlFragment}):
            logger.warning("rich text nested deeper than %d levels: not read", READ_DEPTH)
            rich = None
        return {"text": str(text) if text is not None else "", "rich": str(rich or "")}
    shapes_map, meta = _root(doc, "shapes", Map), _root(doc, "meta", Map)
    shapes = [_shape(key, value) for key, value in (map_entries(shapes_map) if shapes_map else [])]
    shapes.sort(key=lambda s: (_number(s.get("z")), str(s["id"])))
    return {"shapes": shapes, "meta": _plain(meta) if meta is not None else {}}


def _shape(key: str, value: Any) -> dict[str, Any]:
    plain = _plain(value)
    fields = plain if isinstance(plain, dict) else {"value": plain}
    return {**fields, "id": key}


def _too_deep(doc: Doc[Any], roots: dict[str, type]) -> bool:
    return nesting_depth(doc, roots, limit=READ_DEPTH) > READ_DEPTH


def _plain(value: Any) -> Any:
    """`value` as JSON, converted iteratively; past `READ_DEPTH`, null. Shared types become
    JSON, binary values base64 text (as `Uint8Array`s have no JSON form), subdocuments null."""
    result: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(value, result, 0, 0)]
    while stack:
        item, into, key, depth = stack.pop()
        if isinstance(item, Map | Array | dict | list | tuple):
            if depth >= READ_DEPTH:
                into[key] = None
                continue
            pairs: Iterable[tuple[Any, Any]]
            if isinstance(item, Map):
                children: Any = {}
                pairs = map_entries(item)
            elif isinstance(item, dict):
                children = {}
                pairs = item.items()
            else:
                children = [None] * len(item)
                pairs = enumerate(item)
            into[key] = children
            stack.extend((child, children, k, depth + 1) for k, child in pairs)
        elif isinstance(item, Text | XmlFragment | XmlElement | XmlText):
            into[key] = None if depth >= READ_DEPTH else str(item)
        elif isinstance(item, bytes | bytearray):
            into[key] = base64.b64encode(item).decode()
        elif isinstance(item, Doc):
            into[key] = None
        else:
            into[key] = item
    return result[0]


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def restore_update(kind: str, current: bytes, version: bytes) -> bytes:
    """The update that turns the `current` state into the `version`'s content.

    Every root of the kind's model is rewritten to match the version (roots outside the
    model are left alone). Applied as a new update, so connected clients follow. A stored
    structure that Yrs cannot rewrite (it may panic) is `InvalidUpdate`, not a crash.
    """
    return yrs.guarded(_restore, kind, current, version)


def _restore(kind: str, current: bytes, version: bytes) -> bytes:
    doc, source = load(current), load(version)
    before = doc.get_state()
    with doc.transaction():
        for name, shared in ROOTS[kind].items():
            target, origin = _root(doc, name, shared), _root(source, name, shared)
            if target is None:
                continue
            if isinstance(target, Text):
                _replace_text(target, origin)
            elif isinstance(target, Map):
                _replace_map(target, origin)
            elif isinstance(target, XmlFragment):
                _replace_xml(target, origin)
    return doc.get_update(before)


def _replace_text(target: Text | XmlText, source: Text | XmlText | None) -> None:
    target.clear()
    seen: set[str] = set()  # formatting a chunk must switch off, or it would inherit it
    for chunk, attrs in source.diff() if source is not None else []:
        exact = {key: None for key in seen} | dict(attrs or {})
        seen.update(attrs or {})
        if isinstance(chunk, str):
            target.insert(len(target), chunk, exact or None)
        else:
            target.insert_embed(len(target), chunk, exact or None)


def _replace_map(target: Map[Any], source: Map[Any] | None) -> None:
    wanted = dict(map_entries(source)) if source is not None else {}
    for key in [k for k in list(target.keys()) if k not in wanted]:
        del target[key]
    for key, value in wanted.items():
        if key in target and not isinstance(value, _SHARED) and target.get(key) == value:
            continue
        _put(target, key, value, 1)


def _put(target: Map[Any] | Array[Any], key: str | None, value: Any, depth: int) -> None:
    """Write a copy of `value` into `target` (at `key`, or appended to an array): an empty
    shared type first, then its children, since a preliminary type cannot hold every kind
    of child (XML in particular). Past `READ_DEPTH`, a shared type is written as null."""
    slot = _empty(value, depth)
    if isinstance(target, Map):
        target[cast(str, key)] = slot
        written = target[cast(str, key)]
    else:
        target.append(slot)
        written = target[len(target) - 1]
    if slot is None or not isinstance(value, _SHARED):
        return
    if isinstance(value, Map):
        for child_key, child in map_entries(value):
            _put(written, child_key, child, depth + 1)
    elif isinstance(value, Array):
        for child in value:
            _put(written, None, child, depth + 1)
    elif isinstance(value, XmlElement):
        element = written.children.append(XmlElement(value.tag, _attributes(value)))
        _copy_children(element, value, depth + 1)
    elif isinstance(value, XmlText):
        _replace_text(written.children.append(XmlText()), value)
    elif isinstance(value, XmlFragment):
        _copy_children(written, value, depth + 1)


def _empty(value: Any, depth: int) -> Any:
    """What `_put` writes first for `value`: an empty shared type, or the plain value.
    XML cannot be a map's value in pycrdt, so it is written inside a fragment (which reads
    as the same text)."""
    if isinstance(value, _SHARED) and depth > READ_DEPTH:
        return None
    if isinstance(value, Map):
        return Map()
    if isinstance(value, Array):
        return Array()
    if isinstance(value, Text):
        return Text(str(value))
    if isinstance(value, XmlFragment | XmlElement | XmlText):
        return XmlFragment()
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, Doc):
        return None
    return value


def _replace_xml(target: XmlFragment, source: XmlFragment | None) -> None:
    while len(target.children):
        del target.children[len(target.children) - 1]
    if source is not None:
        _copy_children(target, source)


def _copy_children(
    target: XmlFragment | XmlElement, source: XmlFragment | XmlElement, depth: int = 1
) -> None:
    """Copy rich text below `source` into `target`, no deeper than `READ_DEPTH`."""
    if depth > READ_DEPTH:
        return
    for child in source.children:
        if isinstance(child, XmlText):
            copied_text = target.children.append(XmlText())
            _replace_text(copied_text, child)
        elif isinstance(child, XmlElement):
            copied = target.children.append(XmlElement(child.tag, _attributes(child)))
            _copy_children(copied, child, depth + 1)


def _attributes(element: XmlElement) -> list[tuple[str, str]]:
    return list(cast(Iterable[tuple[str, str]], element.attributes))
