"""Helpers of the fuzz regression tests: tiny updates, a resynced copy, a live document on
an in-memory log."""

from __future__ import annotations

from typing import Any

import fuzzformat as f
import pycrdt
from fuzzbases import base_doc

from realtime.errors import RealtimeError
from realtime.yjs import yrs
from realtime.yjs.awareness import AwarenessState
from realtime.yjs.document import LiveDocument
from realtime.yjs.limits import DocumentLimits
from realtime.yjs.update_format import inspect_update


def string_update(client: int, clock: int, text: str = "hi", root: str = "t") -> bytes:
    return f.encode_update(
        f.Update((f.Group(client, clock, (f.Item(f.String(text), parent=root),)),))
    )


def resynced(doc: pycrdt.Doc[Any]) -> pycrdt.Doc[Any]:
    copy: pycrdt.Doc[Any] = pycrdt.Doc()
    copy.apply_update(doc.get_update())
    return copy


class MemoryLog:
    """A document log in memory: appends kept, nothing to load."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    async def append(self, name: str, data: bytes) -> None:
        self.parts.append(data)

    async def load(self, name: str) -> Any:
        raise NotImplementedError

    async def compact(self, name: str) -> Any:
        raise NotImplementedError


class Member:
    """A connection of a live document, noting whether it was stopped."""

    def __init__(self, conn_id: int) -> None:
        self.conn_id = conn_id
        self.stopped: RealtimeError | None = None

    def offer(self, frame: Any) -> bool:
        return True

    def stop(self, error: RealtimeError) -> None:
        self.stopped = error


async def _publish(document: LiveDocument, frame: bytes, origin: int) -> None:
    return None


def live_document(doc: pycrdt.Doc[Any], policy: yrs.Policy | None = None) -> LiveDocument:
    checks = yrs.DocumentPolicy(nesting=policy) if policy is not None else None
    return LiveDocument(
        "d", doc, AwarenessState(), MemoryLog(), _publish, DocumentLimits(), policy=checks
    )


# A format item (client 3, its clock 22) whose origin is the whiteboard's first shape entry:
# through the origin it lands in the `shapes` map as the current item of key "s1", and pycrdt
# raises KeyError reading that key (every `values()`/`items()` of the map, and `to_py`).
FORMAT_IN_A_MAP = bytes.fromhex("01010316860300016b046e756c6c00")


def whiteboard_with_a_format_entry() -> pycrdt.Doc[Any]:
    doc = base_doc("whiteboard")
    inspect_update(FORMAT_IN_A_MAP)
    yrs.apply(doc, FORMAT_IN_A_MAP)
    return doc
