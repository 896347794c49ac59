"""A document loaded on this node: its pycrdt Doc, awareness table and write pipeline.

Write pipeline, per document: an accepted update is queued; updates queued in the same
event-loop turn (and while the previous write is in flight) are merged into one, appended to
the update log (durable: committed), applied to the Doc, then published once on the
document's channel `docs:{name}`. So the Doc on a node only ever holds durable state, and
every byte a client receives from the server, live or in a sync step 2, is already stored.
With `DocumentLimits.durable` off, the append runs in the background instead (measuring
what durability costs; see docs/operations.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pycrdt

from realtime.connection import Frame
from realtime.errors import MessageTooLargeError, RealtimeError, ResyncError
from realtime.yjs import yrs
from realtime.yjs.awareness import AwarenessState
from realtime.yjs.errors import YjsError
from realtime.yjs.lib0 import Reader
from realtime.yjs.limits import DocumentLimits
from realtime.yjs.messages import encode_sync_update
from realtime.yjs.publication import channel_of
from realtime.yjs.surrogates import AstralIndex, WholeCharacters
from realtime.yjs.update_format import InvalidUpdate, inspect_update
from realtime.yjs.update_log import UpdateLog

logger = logging.getLogger("liveclass.documents")


class DocumentTooLargeError(MessageTooLargeError):
    """Accepting the update would take the stored document past its size cap."""

    default_reason = "document too large"


class DocumentDeletedError(RealtimeError):
    """A host deleted the document; the client should drop its local copy, not reconnect."""

    close_code = 4004
    default_reason = "document deleted"
    reconnect = False


class StoreFailedError(RealtimeError):
    """The update could not be stored; reconnect and the client sends it again."""

    default_reason = "could not store the update; reconnect"


Publish = Callable[["LiveDocument", bytes, int], Awaitable[None]]
"""Publishes a frame on a document's channel; the int is the origin connection (0: none)."""


@dataclass(slots=True)
class _Write:
    update: bytes
    origin: int
    done: asyncio.Future[None] | None = None
    nests_types: bool = False
    reaches: Mapping[int, int] = field(default_factory=dict)


def _reaches(batch: list[_Write]) -> dict[int, int]:
    """The clocks a batch's merged update reaches (`UpdateShape.reaches`)."""
    reaches: dict[int, int] = {}
    for write in batch:
        for client, clock in write.reaches.items():
            reaches[client] = max(reaches.get(client, 0), clock)
    return reaches


@dataclass(slots=True)
class Rejections:
    """Updates refused after their structure passed: counted for /metrics."""

    local: int = 0
    remote: int = 0
    live_failures: int = 0


class Member(Protocol):
    """A local connection of a document, as the document sees it."""

    def offer(self, frame: Frame) -> bool:
        """Queue a frame without waiting."""
        ...

    def stop(self, error: RealtimeError) -> None:
        """Close the connection with `error`'s code."""
        ...

    @property
    def conn_id(self) -> int:
        """This node's id of the connection."""
        ...


@dataclass(eq=False)
class LiveDocument:
    """One loaded document; every method runs on the event loop, none blocks."""

    name: str
    ydoc: pycrdt.Doc[Any]
    awareness: AwarenessState
    log: UpdateLog
    publisher: Publish
    limits: DocumentLimits
    log_length: int = 0
    log_bytes: int = 0
    snapshot_bytes: int = 0
    members: dict[int, Member] = field(default_factory=dict)
    holds: int = 0
    timer: asyncio.TimerHandle | None = None
    on_settled: Callable[[LiveDocument], None] | None = None
    on_corrupt: Callable[[LiveDocument], None] | None = None
    policy: yrs.DocumentPolicy | None = None
    """What the trial copy must still satisfy after an update (room documents)."""
    rejections: Rejections = field(default_factory=Rejections)
    astral: AstralIndex = field(default_factory=AstralIndex)
    """Where the document's astral characters lie, so no update cuts one in two."""
    compacted_at_rest: bool = False
    _pending: list[_Write] = field(default_factory=list)
    _writing: list[_Write] = field(default_factory=list)
    _pending_bytes: int = 0
    _flusher: asyncio.Task[None] | None = None
    _compactor: asyncio.Task[None] | None = None
    _storing: set[asyncio.Task[None]] = field(default_factory=set)
    _trial: yrs.TrialDocument | None = None

    @property
    def for_sync(self) -> WholeCharacters:
        """The document as a connection's sync session reads it."""
        return WholeCharacters(self.ydoc, self.astral)

    @property
    def trial(self) -> yrs.TrialDocument:
        """The copy on which updates are proven before this document applies them."""
        if self._trial is None:
            self._trial = yrs.TrialDocument(self.ydoc)
        return self._trial

    @property
    def channel(self) -> str:
        """This document's broker channel."""
        return channel_of(self.name)

    @property
    def stored_bytes(self) -> int:
        """Bytes the document takes in the database (snapshot plus log), an upper bound."""
        return self.snapshot_bytes + self.log_bytes

    @property
    def busy(self) -> bool:
        """Whether writes or a compaction are under way."""
        return (
            bool(self._pending)
            or self._flusher is not None
            or self._compactor is not None
            or bool(self._storing)
        )

    def submit(self, update: bytes, *, origin: int = 0) -> asyncio.Future[None]:
        """Queue an update for the pipeline; the future resolves once it is stored and sent.

        Raises `DocumentTooLargeError`, `InvalidUpdate` or `UpdateTooComplex` before queueing
        anything; an update that passes its structural check but does not apply fails the
        future with `InvalidUpdate` (and stops its sender) without harming the others.
        """
        if self.stored_bytes + self._pending_bytes + len(update) > self.limits.max_document_bytes:
            self.compact_soon()  # the estimate may shrink once garbage is collected
            raise DocumentTooLargeError(
                f"the document is limited to {self.limits.max_document_bytes} bytes"
            )
        shape = inspect_update(update, self.limits.structure)
        self.astral.check(shape)
        self.astral.add(shape)  # before the proof: a later write of the batch may cut them
        done = asyncio.get_running_loop().create_future()
        self._pending.append(_Write(update, origin, done, shape.nested_types, shape.reaches))
        self._pending_bytes += len(update)
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush(), name=f"yjs-flush:{self.name}")
        return done

    async def _flush(self) -> None:
        """Store, apply and publish pending updates, one merged update per round."""
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                self._writing = batch
                await self._write(batch)
        except Exception:
            logger.exception("the write pipeline of %s failed", self.name)
            self.stop_all(StoreFailedError())
        finally:
            self._writing = []
            self._flusher = None
            self._settled()

    async def _write(self, batch: list[_Write]) -> None:
        size = sum(len(w.update) for w in batch)
        batch, update = self._prove(batch)
        if not batch:
            self._pending_bytes -= size
            return
        try:
            if self.limits.durable:
                await self.log.append(self.name, update)
            else:
                self._store_later(update)
        except Exception as exc:
            logger.exception("could not store an update of %s", self.name)
            self._pending_bytes -= size
            self._fail(batch, exc)
            return
        self._pending_bytes -= size
        self.log_length += 1
        self.log_bytes += len(update)
        if not self._apply_proven(update):
            return
        origins = {w.origin for w in batch}
        origin = origins.pop() if len(origins) == 1 else 0
        try:
            await self.broadcast(encode_sync_update(update), origin)
        finally:
            for write in batch:
                if write.done is not None and not write.done.done():
                    write.done.set_result(None)
        if self.log_length >= self.limits.compact_threshold:
            self.compact_soon()

    def _prove(self, batch: list[_Write]) -> tuple[list[_Write], bytes]:
        """The writes that apply on the trial copy, merged into the one update to store; the
        others are refused, their senders stopped (1002). The batch is tried at once, one by
        one only if that fails."""
        try:
            merged = yrs.merge([w.update for w in batch])
            nests = any(w.nests_types for w in batch)
            self.trial.prove(merged, self.policy, nests=nests, reaches=_reaches(batch))
            return batch, merged
        except YjsError as error:
            if len(batch) == 1:
                self._refuse(batch[0], error)
                return [], b""
        proven: list[_Write] = []
        for write in batch:
            try:
                self.trial.prove(
                    write.update, self.policy, nests=write.nests_types, reaches=write.reaches
                )
                proven.append(write)
            except YjsError as error:
                self._refuse(write, error)
                # The failed proof dropped the copy: give the fresh one the writes proven so
                # far, or a later write depending on them would be proven without them.
                try:
                    if proven:
                        self.trial.prove(yrs.merge([w.update for w in proven]))
                except YjsError as again:
                    for kept in proven:
                        self._refuse(kept, again)
                    proven = []
        return proven, yrs.merge([w.update for w in proven]) if proven else b""

    def _refuse(self, write: _Write, error: YjsError) -> None:
        self.rejections.local += 1
        logger.warning("refused an update of %s: %s", self.name, error.reason)
        if write.done is not None and not write.done.done():
            write.done.set_exception(error)
            write.done.exception()  # retrieved: a sender that left must not warn
        member = self.members.get(write.origin)
        if member is not None:
            member.stop(error)

    def _apply_proven(self, update: bytes) -> bool:
        """Apply a stored, proven update; if Yrs still refuses it, reload the document."""
        try:
            yrs.apply(self.ydoc, update)
            return True
        except InvalidUpdate:
            # Never expected: the trial copy took the same bytes. The live copy may be
            # half-changed, so nobody may read it: reload from the database, which
            # quarantines the stored update on load.
            logger.error("a proven update of %s did not apply; reloading it", self.name)
            self.rejections.live_failures += 1
            self._trial = None
            for write in self._pending:
                if write.done is not None and not write.done.done():
                    write.done.set_exception(ResyncError())
                    write.done.exception()
            self.stop_all(ResyncError())
            if self.on_corrupt is not None:
                self.on_corrupt(self)
            return False

    def _store_later(self, update: bytes) -> None:
        """Not durable: append in the background (in order, through the same committer)."""
        task = asyncio.create_task(self._append(update), name=f"yjs-store:{self.name}")
        self._storing.add(task)
        task.add_done_callback(self._stored)

    async def _append(self, update: bytes) -> None:
        try:
            await self.log.append(self.name, update)
        except Exception:
            logger.exception("lost an update of %s: it was sent but not stored", self.name)

    def _stored(self, task: asyncio.Task[None]) -> None:
        self._storing.discard(task)
        self._settled()

    def _fail(self, batch: list[_Write], exc: Exception) -> None:
        """Nothing of the batch was stored or sent: its senders reconnect and send it again."""
        for write in batch:
            if write.done is not None and not write.done.done():
                write.done.set_exception(StoreFailedError())
                write.done.exception()  # retrieved: a sender that left must not warn
            member = self.members.get(write.origin)
            if member is not None:
                member.stop(StoreFailedError())

    async def broadcast(self, frame: bytes, origin: int = 0) -> None:
        """Publish a frame on the document's channel; `origin` (a local connection) skips it."""
        await self.publisher(self, frame, origin)

    def compact_soon(self) -> None:
        """Start a compaction unless one runs or the log is empty."""
        if self._compactor is None and self.log_length:
            self._compactor = asyncio.create_task(self._compact(), name=f"yjs-compact:{self.name}")

    async def _compact(self) -> None:
        try:
            result = await self.log.compact(self.name)
            self.log_length, self.log_bytes = result.remaining, result.remaining_bytes
            if result.snapshot_bytes is not None:
                self.snapshot_bytes = result.snapshot_bytes
        except Exception:
            logger.exception("compaction of %s failed; the log is kept", self.name)
        finally:
            self._compactor = None
            self._settled()

    def apply_remote(self, frame: bytes, node: str) -> bool:
        """Apply another node's publication (already stored by that node) to local state.

        An update is proven on the trial copy first; one that does not apply here is
        skipped (False: not fanned out); a cold load will quarantine it.
        """
        if frame[:2] == b"\x00\x02":
            update = Reader(frame[2:]).read_var_bytes()
            try:
                self.trial.prove(update)
            except YjsError:
                self.rejections.remote += 1
                logger.error("an update of %s from node %s does not apply here", self.name, node)
                return False
            self.log_length += 1
            self.log_bytes += len(update)
            self.astral.add_update(update)
            return self._apply_proven(update)
        if frame[:1] == b"\x01":
            self.awareness.apply(Reader(frame[1:]).read_var_bytes(), connection=("node", node))
        return True

    def stop_all(self, error: RealtimeError) -> None:
        """Close every local connection of the document with `error`."""
        for member in list(self.members.values()):
            member.stop(error)

    async def settle(self) -> None:
        """Wait until queued writes and a running compaction are done."""
        while (
            task := self._flusher or self._compactor or next(iter(self._storing), None)
        ) is not None:
            await asyncio.wait([task])

    async def stored(self) -> None:
        """Wait until every update submitted so far is stored (or refused), not the ones
        submitted meanwhile: unlike `settle`, an editor typing on does not prolong it."""
        flusher = self._flusher
        waits = {
            w.done
            for w in (*self._writing, *self._pending)
            if w.done is not None and not w.done.done()
        }
        while waits and flusher is not None:
            # The flusher ending also ends the wait: a failed round may leave futures open.
            done, _ = await asyncio.wait({*waits, flusher}, return_when=asyncio.FIRST_COMPLETED)
            if flusher in done:
                break
            waits -= done
        if self._storing:  # not durable: the appends of those writes run in the background
            await asyncio.wait(set(self._storing))

    def _settled(self) -> None:
        if not self.busy and self.on_settled is not None:
            self.on_settled(self)
