"""How deeply shared types nest in a document, measured without recursion and with a bound.

A client can put a Y.Map in a Y.Map in a Y.Map, one level per update, thousands of levels
deep; readers that recurse (Yjs' `toJSON`, pycrdt's `to_py`) then fail for everyone. An
update's own bytes cannot tell how deep its new types land (their parents may be found
through other items), so a document that cares (the room documents) checks its trial copy
after each update that adds a shared type below a root: `depth_policy` walks the roots it is
given, breadth-first, and stops as soon as the cap is passed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pycrdt

from realtime.yjs.update_format import UpdateTooComplex
from realtime.yjs.yrs import Policy

RootTypes = Mapping[str, type]


def depth_policy(roots: RootTypes, max_depth: int) -> Policy:
    """A trial check refusing documents whose shared types under `roots` nest too deeply."""

    def check(doc: pycrdt.Doc[Any]) -> None:
        depth = nesting_depth(doc, roots, limit=max_depth)
        if depth > max_depth:
            raise UpdateTooComplex(f"shared types nest deeper than {max_depth} levels")

    return check


def nesting_depth(doc: pycrdt.Doc[Any], roots: RootTypes, *, limit: int) -> int:
    """The deepest shared type under `roots` (a root is level 0), or `limit + 1` past it."""
    level: list[Any] = []
    for name, kind in roots.items():
        root = existing_root(doc, name, kind)
        if root is not None:
            level.append(root)
    depth = 0
    while level:
        following = [child for node in level for child in _children(node)]
        if not following:
            return depth
        depth += 1
        if depth > limit:
            return depth
        level = following
    return depth


def existing_root(doc: pycrdt.Doc[Any], name: str, kind: type) -> Any:
    """The root `name` of `doc` as a `kind`, or None if it is missing or another type."""
    if name not in doc.keys():  # noqa: SIM118 (Doc is not typed as a container)
        return None
    try:
        return doc.get(name, type=kind)
    except Exception:  # the root holds another type: not part of the model
        return None


_SHARED = (
    pycrdt.Map,
    pycrdt.Array,
    pycrdt.Text,
    pycrdt.XmlFragment,
    pycrdt.XmlElement,
    pycrdt.XmlText,
)


def _children(node: Any) -> Iterator[Any]:
    """The shared types directly inside `node`."""
    values: Any
    if isinstance(node, pycrdt.Map):
        values = [value for _, value in map_entries(node)]
    elif isinstance(node, pycrdt.Array):
        values = iter(node)
    elif isinstance(node, pycrdt.XmlFragment | pycrdt.XmlElement):
        values = iter(node.children)
    else:
        return
    for value in values:
        if isinstance(value, _SHARED):
            yield value


def map_entries(node: pycrdt.Map[Any]) -> list[tuple[str, Any]]:
    """A map's entries; one whose current item holds no value (a crafted item, on which
    pycrdt raises KeyError) is skipped."""
    found: list[tuple[str, Any]] = []
    for key in list(node.keys()):
        try:
            found.append((key, node[key]))
        except KeyError:
            continue
    return found
