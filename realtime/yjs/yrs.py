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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar, cast

import pycrdt

from realtime.yjs.messages import decode_state_vector
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
Measure = Callable[[pycrdt.Doc[Any]], int]
"""A count of something in a document that no update may increase."""


@dataclass(frozen=True, slots=True)
class DocumentPolicy:
    """What an update may not do to a document: nest shared types too deeply (a costly
    check, run only after updates that add a nested shared type), or increase `no_more`
    (a cheap count, taken after every update; a document stored before a rule existed
    stays writable, since only an increase is refused)."""

    nesting: Policy | None = None
    no_more: Measure | None = None
    no_more_reason: str = "the update adds what this document may not hold"


PENDING: Final = "the update depends on changes this document does not have"
"""Yrs keeps such a part pending, and integrates pending parts otherwise one by one than
merged (found by tests/fuzz): a document's log could then rebuild into another document.
No client of this server can write one, since it only edits what the server sent it."""


def _check_reaches(doc: pycrdt.Doc[Any], reaches: Mapping[int, int]) -> None:
    state = decode_state_vector(doc.get_state())
    if any(state.get(client, 0) < clock for client, clock in reaches.items()):
        raise InvalidUpdate(PENDING)


class TrialDocument:
    """A copy of a live document on which updates are proven before the live one sees them."""

    def __init__(self, live: pycrdt.Doc[Any]) -> None:
        self._live = live
        self._copy: pycrdt.Doc[Any] | None = None
        self._counted: int | None = None  # `no_more` of the copy as it is, if known

    def prove(
        self,
        update: bytes,
        policy: DocumentPolicy | None = None,
        *,
        nests: bool = False,
        reaches: Mapping[int, int] | None = None,
    ) -> None:
        """Apply `update` to the copy and check `policy` (its nesting rule if the update
        `nests` a shared type); on any failure, drop the copy. With `reaches`
        (`UpdateShape.reaches`), an update that leaves a part pending fails too."""
        if self._copy is None:
            self._copy, self._counted = clone(self._live), None
        copy, counted, self._counted = self._copy, self._counted, None
        count = policy.no_more if policy is not None else None
        try:
            if count is not None and counted is None:
                counted = count(copy)
            apply(copy, update)
            if reaches:
                _check_reaches(copy, reaches)
            if policy is not None and nests and policy.nesting is not None:
                policy.nesting(copy)
            if count is not None:
                now = count(copy)
                if counted is not None and now > counted:
                    raise InvalidUpdate(cast(DocumentPolicy, policy).no_more_reason)
                self._counted = now
        except BaseException:
            self._copy = None
            raise

    def follow(self, update: bytes) -> None:
        """The live document took an update that was not proven here: keep the copy equal."""
        self._counted = None
        if self._copy is not None:
            try:
                apply(self._copy, update)
            except InvalidUpdate:
                self._copy = None

    def reset(self) -> None:
        """Forget the copy; the next proof clones the live document again."""
        self._copy, self._counted = None, None
