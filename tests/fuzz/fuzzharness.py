"""The server's Yjs ingest path without sockets, checked after every step; profiles; corpus.

`Ingest` feeds frames to a `SyncSession` bound to a live pycrdt document and carries out its
actions as `LiveDocument` does: an update is checked by `inspect_update` when it is submitted;
at a flush, the pending batch is proven on the `TrialDocument` (merged first, one by one if
that fails, with the room document's nesting policy when an update nests a shared type), the
proven updates are merged, stored and applied to the live document. After every step:

- nothing but a `YjsError` came out of the protocol core, the inspection or the proof (a Yrs
  panic, a `BaseException`, must have been turned into `InvalidUpdate` by the guard);
- an update that was refused left the live document exactly as it was;
- a proven update applied to the live document;
- the live document equals one rebuilt from the stored updates (`yrs.build`, no part bad;
  no update that leaves a part pending is taken, so none resolves otherwise merged than one
  by one), a fresh client can sync from it (and a
  second client from the first, getting the same), the trial copy, if kept, equals it, and
  a room document still meets its policy (nesting, plain notes);
- every frame the server sends back decodes, the updates in it pass `inspect_update`, and a
  peer fed every awareness broadcast holds the server's awareness states.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import fuzzformat as f
import pycrdt
from fuzzbases import BASES, base_doc, base_update
from fuzzstrategies import Case
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase

from realtime.yjs import yrs
from realtime.yjs.awareness import AwarenessState
from realtime.yjs.errors import YjsError
from realtime.yjs.limits import DocumentLimits
from realtime.yjs.messages import (
    Awareness,
    SyncStep2,
    SyncUpdate,
    decode_message,
    decode_state_vector,
)
from realtime.yjs.surrogates import AstralIndex, WholeCharacters
from realtime.yjs.sync import Action, ApplyUpdate, Broadcast, SyncSession
from realtime.yjs.update_format import UpdateShape, inspect_update
from rooms.document_shapes import POLICIES

HERE: Final = Path(__file__).parent
CORPUS: Final = HERE / "corpus"

# ---------------------------------------------------------------- settings profiles


class FailuresOnly(ExampleDatabase):
    """Keeps failing examples only: Hypothesis also saves every example on the Pareto front
    of `target()` scores (thousands in a long run), which is not worth committing."""

    def __init__(self, inner: ExampleDatabase) -> None:
        super().__init__()
        self.inner = inner

    def save(self, key: bytes, value: bytes) -> None:
        if not key.endswith((b".pareto", b".secondary")):
            self.inner.save(key, value)

    def fetch(self, key: bytes) -> Iterable[bytes]:
        return self.inner.fetch(key)

    def delete(self, key: bytes, value: bytes) -> None:
        self.inner.delete(key, value)


_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "fuzz-ci",
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=_QUIET,
    print_blob=True,
)
settings.register_profile(
    "fuzz-long",
    max_examples=100_000,
    derandomize=False,
    database=FailuresOnly(DirectoryBasedExampleDatabase(CORPUS / "hypothesis")),
    deadline=None,
    suppress_health_check=_QUIET,
    print_blob=True,
)
LONG: Final = os.environ.get("LIVECLASS_FUZZ", "") == "long"


def fuzz_settings(short_examples: int = 200) -> settings:
    """The short CI run, or with `LIVECLASS_FUZZ=long` the long one
    (`LIVECLASS_FUZZ_EXAMPLES=N` overrides the number of examples of either)."""
    profile = settings.get_profile("fuzz-long" if LONG else "fuzz-ci")
    count = os.environ.get("LIVECLASS_FUZZ_EXAMPLES")
    examples = int(count) if count else (profile.max_examples if LONG else short_examples)
    return settings(profile, max_examples=examples)


# ---------------------------------------------------------------- comparing documents


class Snapshot:
    """A document's content; equal when its bytes are, or else its canonical form
    (`fuzzformat.read_update`: Yrs may order map keys or split runs differently)."""

    __slots__ = ("state", "update")

    def __init__(self, doc: pycrdt.Doc[Any]) -> None:
        self.update: bytes = doc.get_update()
        self.state: bytes = doc.get_state()

    @property
    def clocks(self) -> dict[int, int]:
        return decode_state_vector(self.state)

    def canonical(self) -> tuple[dict[int, int], list[tuple[object, ...]], f.DeleteSet]:
        structs, deletes = f.read_update(self.update)
        return self.clocks, structs, deletes

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Snapshot):
            return NotImplemented
        if self.update == other.update and self.state == other.state:
            return True
        return self.canonical() == other.canonical()

    __hash__ = None  # type: ignore[assignment]


def snapshot(doc: pycrdt.Doc[Any]) -> Snapshot:
    return Snapshot(doc)


class Escaped(AssertionError):
    """Something other than a `YjsError` left the ingest path."""


def raised_in(exc: BaseException, path: str) -> bool:
    """Whether `exc` was raised in the file ending with `path`."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_filename.endswith(path)


def panicked(error: BaseException) -> bool:
    """Whether a `YjsError` stands for a Yrs panic the guard caught."""
    cause = error.__cause__
    return cause is not None and type(cause).__name__ == "PanicException"


def replay(parts: list[bytes]) -> pycrdt.Doc[Any]:
    """The stored parts applied one by one, as the live document took them."""
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    for part in parts:
        yrs.apply(doc, part)
    return doc


def resync(doc: pycrdt.Doc[Any]) -> pycrdt.Doc[Any]:
    """A new client's copy of `doc`, from its whole state (raises if Yrs cannot read it)."""
    client: pycrdt.Doc[Any] = pycrdt.Doc()
    try:
        client.apply_update(doc.get_update())
    except BaseException as exc:
        raise AssertionError(f"a client cannot sync from the document: {exc!r}") from exc
    return client


def policy_of(base: str) -> yrs.DocumentPolicy | None:
    kind = BASES[base].kind
    return POLICIES[kind] if kind is not None else None


# ---------------------------------------------------------------- the ingest path


class Ingest:
    """One live document and the connections feeding it, as the server runs them."""

    def __init__(self, base: str, *, read_only: frozenset[int] = frozenset()) -> None:
        self.live = base_doc(base)
        self.base = base
        self.policy = policy_of(base)
        self.limits = DocumentLimits()
        self.awareness = AwarenessState(max_payload_size=self.limits.max_awareness_bytes)
        self.peer = AwarenessState(max_clients_per_connection=2**31, max_tombstones=2**31)
        """Another client's awareness, fed every broadcast: it must see what the server has."""
        self.trial = yrs.TrialDocument(self.live)
        self.astral = AstralIndex.of_state(self.live.get_update())
        self.stored: list[bytes] = [base_update(base)] if base_update(base) else []
        self.pending: list[tuple[bytes, UpdateShape]] = []
        self.read_only = read_only
        self.sessions = 0
        self.session = self._connect()
        self.outcomes: list[str] = []

    def _connect(self) -> SyncSession:
        session = SyncSession(
            WholeCharacters(self.live, self.astral),
            self.awareness,
            connection=self.sessions,
            read_only=self.sessions in self.read_only,
            max_message_size=self.limits.max_update_bytes,
        )
        self.sessions += 1
        for action in session.open():
            self._check_sent(action)
        return session

    def _refused(self, what: str, error: YjsError) -> None:
        """The connection is closed with the error's code; the next frame comes on a new one."""
        self.outcomes.append(
            f"{what}: {type(error).__name__}" + (" (panic)" if panicked(error) else "")
        )
        for action in self.session.close():
            self._check_sent(action)
        self.session = self._connect()

    def run(self, case: Case) -> Ingest:
        for index, frame in enumerate(case.frames):
            self.feed(frame)
            if case.flushes_after(index):
                self.flush()
            self.check()
        return self

    def feed(self, frame: bytes) -> None:
        try:
            actions = self.session.receive(frame)
        except YjsError as error:
            self._refused("frame refused", error)
            return
        except BaseException as exc:
            raise Escaped(f"SyncSession.receive raised {exc!r}") from exc
        for action in actions:
            if isinstance(action, ApplyUpdate):
                self.submit(action.update)
            else:
                self._check_sent(action)

    def submit(self, update: bytes) -> None:
        """`LiveDocument.submit`: the structural check, then the update waits for a flush."""
        try:
            shape = inspect_update(update, self.limits.structure)
        except YjsError as error:
            self._refused("update refused by inspect_update", error)
            return
        except BaseException as exc:
            raise Escaped(f"inspect_update raised {exc!r}") from exc
        try:
            self.astral.check(shape)
        except YjsError as error:
            self._refused("update refused: it cuts a character", error)
            return
        self.astral.add(shape)
        self.pending.append((update, shape))

    def flush(self) -> None:
        """`LiveDocument._write`: prove the batch, store the proven updates merged, apply."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        before = snapshot(self.live)
        proven = self._prove(batch)
        assert snapshot(self.live) == before, "proving an update changed the live document"
        if not proven:
            return
        try:
            update = yrs.merge([u for u, _ in proven])
        except YjsError as error:  # LiveDocument: StoreFailedError, nothing stored or applied
            self.outcomes.append(f"merge of proven updates failed: {error.reason}")
            return
        except BaseException as exc:
            raise Escaped(f"yrs.merge raised {exc!r}") from exc
        self.stored.append(update)
        try:
            yrs.apply(self.live, update)
        except BaseException as exc:
            raise AssertionError(
                f"a proven update did not apply to the live document: {exc!r}"
            ) from exc
        self.outcomes.append("batch accepted" if len(proven) > 1 else "update accepted")

    def _prove(self, batch: list[tuple[bytes, UpdateShape]]) -> list[tuple[bytes, UpdateShape]]:
        """`LiveDocument._prove`: the whole batch at once, one by one only if that fails."""
        reaches: dict[int, int] = {}
        for _, shape in batch:
            for client, clock in shape.reaches.items():
                reaches[client] = max(reaches.get(client, 0), clock)
        nests = any(shape.nested_types for _, shape in batch)
        try:
            self._try(yrs.merge([u for u, _ in batch]), nests, reaches)
            return batch
        except YjsError as error:
            if len(batch) == 1:
                self._refused("update refused by the trial copy", error)
                return []
        proven: list[tuple[bytes, UpdateShape]] = []
        for update, shape in batch:
            try:
                self._try(update, shape.nested_types, shape.reaches)
                proven.append((update, shape))
            except YjsError as error:
                self._refused("update refused by the trial copy", error)
                # The failed proof dropped the copy: the fresh one gets what was proven so far.
                try:
                    if proven:
                        self._try(yrs.merge([u for u, _ in proven]), False, {})
                except YjsError as again:
                    self._refused("proven updates refused again", again)
                    proven = []
        return proven

    def _try(self, update: bytes, nested: bool, reaches: Mapping[int, int]) -> None:
        try:
            self.trial.prove(update, self.policy, nests=nested, reaches=reaches)
        except YjsError:
            raise
        except BaseException as exc:
            raise Escaped(f"TrialDocument.prove raised {exc!r}") from exc

    def check(self) -> None:
        """The live document against the stored log, a fresh client and the trial copy."""
        live = snapshot(self.live)
        rebuilt, bad = yrs.build(self.stored)
        assert bad == [], f"stored updates {bad} do not apply on load"
        assert snapshot(rebuilt) == live, "the live document differs from its log rebuilt"
        nesting = self.policy.nesting if self.policy is not None else None
        if nesting is not None:  # the room document's nesting cap holds for what it took
            try:
                nesting(self.live)
            except YjsError as error:
                raise AssertionError(f"the live document breaks its policy: {error}") from error
        # A client syncing from scratch must get a document it can read, and pass it on: Yrs
        # re-reads an item whose parent is not a shared type as GC, so the first copy may
        # differ from the live document in such invisible items, but not from a second one.
        client = resync(self.live)
        assert snapshot(client).clocks == live.clocks, "a client syncing gets other clocks"
        assert snapshot(resync(client)) == snapshot(client), (
            "clients syncing from each other differ"
        )
        copy = getattr(self.trial, "_copy")  # noqa: B009 (white-box: the proof's own copy)
        if copy is not None:
            assert snapshot(copy) == live, "the trial copy drifted from the live document"

    def _check_sent(self, action: Action) -> None:
        """Every frame the server sends decodes, and the updates it carries are well formed."""
        message = decode_message(action.frame)
        if isinstance(message, SyncStep2 | SyncUpdate):
            try:
                inspect_update(message.update, self.limits.structure)
            except YjsError as error:
                raise AssertionError(
                    f"the server sent an update it would refuse: {error}"
                ) from error
        elif isinstance(message, Awareness) and isinstance(action, Broadcast):
            self.peer.apply(message.payload, connection="server")
            assert self.peer.states == self.awareness.states, "a peer sees other awareness"


def ingest(case: Case) -> Ingest:
    return Ingest(case.base, read_only=case.read_only).run(case)


# ---------------------------------------------------------------- the committed corpus


def corpus_cases(folder: str) -> list[tuple[str, Case]]:
    """Cases of `corpus/<folder>/<base>__<label>.bin`: frames, each as lib0 varBytes."""
    found = []
    for path in sorted((CORPUS / folder).glob("*.bin")):
        base, _, _ = path.stem.partition("__")
        found.append((path.stem, Case(base, tuple(f.decode_frames(path.read_bytes())))))
    return found
