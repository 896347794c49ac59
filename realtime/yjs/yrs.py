"""Every call into Yrs (through pycrdt) that is fed bytes from outside, guarded in one place.

Yrs reports most bad input as `ValueError`, but some well-formed updates make it panic, and
pycrdt raises a panic as `pyo3_runtime.PanicException`, a `BaseException` that slips past
`except Exception`. Here both become `InvalidUpdate` (close code 1002 for a client, a
skipped part for a stored document), so no caller has to remember that Rust can panic.

`TrialDocument` is the proof that an update applies: a second copy of a live document on
which every update is applied first. A panic mid-integration leaves a document half-changed,
so only the copy may ever see an update that has not been proven; when it fails, the copy is
dropped and rebuilt from the live document.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pycrdt

from realtime.yjs.update_format import InvalidUpdate

logger = logging.getLogger("liveclass.documents")
T = TypeVar("T")
_NOT_INPUT_ERRORS = (KeyboardInterrupt, SystemExit, GeneratorExit, asyncio.CancelledError)


def guarded(call: Callable[..., T], *args: Any) -> T:
    """Run a pycrdt call on outside bytes; any error it raises (ValueError, RuntimeError)
    or a Yrs panic is `InvalidUpdate`: the bytes came from outside, so the fault is theirs."""
    try:
        return call(*args)
    except _NOT_INPUT_ERRORS:
        raise
    except Exception as exc:  # ValueError mostly; RuntimeError for some structures (fuzzed)
        raise InvalidUpdate(f"invalid Yjs update: {exc}") from exc
    except BaseException as exc:  # pyo3's PanicException: Yrs panicked on these bytes
        logger.warning("Yrs panicked on an update: %s", exc)
        raise InvalidUpdate("invalid Yjs update: rejected by the CRDT engine") from exc


def apply(doc: pycrdt.Doc[Any], update: bytes) -> None:
    """Apply `update` to `doc`; after an `InvalidUpdate` the document may be half-changed."""
    guarded(doc.apply_update, update)


def merge(updates: Sequence[bytes]) -> bytes:
    """One update equal to all of `updates`."""
    return updates[0] if len(updates) == 1 else guarded(pycrdt.merge_updates, *updates)


def diff(doc: pycrdt.Doc[Any], state_vector: bytes) -> bytes:
    """What the holder of `state_vector` lacks of `doc`."""
    return guarded(doc.get_update, state_vector)


def diff_update(update: bytes, state_vector: bytes) -> bytes:
    """What the holder of `state_vector` lacks of `update`."""
    return guarded(pycrdt.get_update, update, state_vector)


def build(parts: Sequence[bytes]) -> tuple[pycrdt.Doc[Any], list[int]]:
    """A document holding every part that applies, and the indices of those that do not.

    All parts at once first (the snapshot as it is, the rest merged: merging the snapshot too
    would re-encode all of it for nothing); if that fails, part by part, starting afresh
    after each failure, since a failed part may have left the document half-changed.
    """
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    if not parts:
        return doc, []
    try:
        apply(doc, parts[0])
        if len(parts) > 1:
            apply(doc, merge(parts[1:]))
        return doc, []
    except InvalidUpdate:
        logger.error("a stored document holds an update that does not apply; part by part")
    good: list[bytes] = []
    bad: list[int] = []
    doc = pycrdt.Doc()
    for index, part in enumerate(parts):
        try:
            apply(doc, part)
            good.append(part)
        except InvalidUpdate:
            bad.append(index)
            doc = pycrdt.Doc()
            for kept in good:
                apply(doc, kept)
    return doc, bad


def clone(doc: pycrdt.Doc[Any]) -> pycrdt.Doc[Any]:
    """A separate document with the same content."""
    copy: pycrdt.Doc[Any] = pycrdt.Doc()
    copy.apply_update(doc.get_update())
    return copy


Policy = Callable[[pycrdt.Doc[Any]], None]
"""A check of a document's content after a trial (e.g. nesting depth); raises `YjsError`."""


class TrialDocument:
    """A copy of a live document on which updates are proven before the live one sees them."""

    def __init__(self, live: pycrdt.Doc[Any]) -> None:
        self._live = live
        self._copy: pycrdt.Doc[Any] | None = None

    def prove(self, update: bytes, policy: Policy | None = None) -> None:
        """Apply `update` to the copy and check `policy`; on any failure, drop the copy."""
        if self._copy is None:
            self._copy = clone(self._live)
        try:
            apply(self._copy, update)
            if policy is not None:
                policy(self._copy)
        except BaseException:
            self._copy = None
            raise

    def follow(self, update: bytes) -> None:
        """The live document took an update that was not proven here: keep the copy equal."""
        if self._copy is not None:
            try:
                apply(self._copy, update)
            except InvalidUpdate:
                self._copy = None

    def reset(self) -> None:
        """Forget the copy; the next proof clones the live document again."""
        self._copy = None
