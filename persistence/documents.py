"""The Yjs update store: an append-only log per document, compacted into a snapshot.

Appends go through the group committer, so every update is committed (batched with others
within a few milliseconds) before the caller broadcasts it. Cold load is the snapshot plus
the log tail. Compaction folds the log into the snapshot from the database's own rows, never
from a node's memory, and writes only over the snapshot version it read: it is safe with
concurrent appends and with another node compacting the same document.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pycrdt
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence.group_commit import GroupCommitter
from persistence.models import (
    DocumentSnapshot,
    DocumentUpdate,
    DocumentVersion,
    QuarantinedUpdate,
)
from persistence.models.base import utcnow
from realtime.yjs import yrs
from realtime.yjs.update_format import InvalidUpdate

logger = logging.getLogger("liveclass.documents")
DELETE_CHUNK = 500


@dataclass(slots=True)
class StoredDocument:
    """A document as loaded from the database."""

    doc: pycrdt.Doc[Any]
    log_length: int
    log_bytes: int
    snapshot_bytes: int


@dataclass(frozen=True, slots=True)
class Compaction:
    """What one compaction did, and the log it left (as the database holds it)."""

    folded: int
    snapshot_bytes: int | None
    remaining: int
    remaining_bytes: int


def build_doc(parts: Sequence[bytes]) -> pycrdt.Doc[Any]:
    """A document holding every part (snapshot, then updates) that applies; others skipped."""
    return yrs.build(parts)[0]


def encode_state(parts: Sequence[bytes]) -> bytes:
    """One update equal to all of `parts`, with deleted content garbage-collected.

    Yrs leaves out of `get_update` the structs and deletions whose dependencies are missing
    ("pending"); they are merged back from the parts' own diff, so no edit is ever dropped.
    Parts that do not apply are left out (see `Folded`).
    """
    return fold(parts).state


@dataclass(frozen=True, slots=True)
class Folded:
    """Parts folded into one state, and the indices of those that did not apply."""

    state: bytes
    bad: list[int]


def fold(parts: Sequence[bytes]) -> Folded:
    """Fold `parts` into one update (see `encode_state`), skipping those that do not apply."""
    doc, bad = yrs.build(parts)
    state = doc.get_update()
    good = [part for index, part in enumerate(parts) if index not in bad]
    if not good:
        return Folded(state, bad)
    try:
        pending = yrs.diff_update(yrs.merge(good), doc.get_state())
        return Folded(yrs.merge([state, pending]), bad)
    except InvalidUpdate:
        return Folded(state, bad)


async def read_parts(session: AsyncSession, name: str) -> tuple[list[bytes], int, int]:
    """The snapshot and log of `name`: (parts, log length, snapshot bytes).

    The log is read before the snapshot: a compaction committing in between only moves
    updates into the snapshot, so the pair still holds everything (some of it twice, which
    Yjs ignores). Read the other way round, such a compaction would lose updates.
    """
    stored = await read_stored(session, name)
    return stored.parts, len(stored.log_ids), stored.snapshot_bytes


@dataclass(frozen=True, slots=True)
class StoredParts:
    """A document's rows: the snapshot (if any) then the log, with the log's row ids."""

    parts: list[bytes]
    log_ids: list[int]
    snapshot: tuple[bytes, int, int] | None
    """(data, version, folded) of the snapshot row."""

    @property
    def snapshot_bytes(self) -> int:
        """The snapshot's size (0 without one)."""
        return len(self.snapshot[0]) if self.snapshot else 0

    def row_of(self, index: int) -> tuple[str, int | None]:
        """Which row part `index` came from: ("snapshot", None) or ("log", id)."""
        if self.snapshot is not None:
            if index == 0:
                return "snapshot", None
            index -= 1
        return "log", self.log_ids[index]


async def read_stored(session: AsyncSession, name: str) -> StoredParts:
    """The snapshot and log of `name` (the log read first: see `read_parts`)."""
    rows = (
        await session.execute(
            select(DocumentUpdate.id, DocumentUpdate.data)
            .where(DocumentUpdate.doc == name)
            .order_by(DocumentUpdate.id)
        )
    ).all()
    snapshot = await session.get(DocumentSnapshot, name, populate_existing=True)
    base = (snapshot.data, snapshot.version, snapshot.folded) if snapshot else None
    parts = ([base[0]] if base else []) + [data for _, data in rows]
    return StoredParts(parts, [row_id for row_id, _ in rows], base)


async def current_doc(session: AsyncSession, name: str) -> pycrdt.Doc[Any]:
    """The document as stored now (snapshot plus log), built once for reading."""
    parts, _, _ = await read_parts(session, name)
    return build_doc(parts)


async def current_state(session: AsyncSession, name: str) -> bytes:
    """The document's whole state as one update (empty document if nothing is stored)."""
    parts, _, _ = await read_parts(session, name)
    return encode_state(parts)


class DocumentStore:
    """Appends, loads and compacts documents; satisfies `realtime.yjs.update_log.UpdateLog`."""

    def __init__(
        self,
        committer: GroupCommitter,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        readers: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.committer = committer
        self.sessions = sessionmaker
        # Loads and compaction reads need no write lock (SQLite: a read-only engine).
        self.readers = readers or sessionmaker
        self.quarantined = 0
        """Stored parts this store moved into the quarantine (for /metrics)."""

    async def append(self, name: str, data: bytes) -> None:
        """Append one update; returns once it is committed."""

        async def write(session: AsyncSession) -> None:
            session.add(DocumentUpdate(doc=name, data=data))

        await self.committer.submit(write)

    async def load(self, name: str) -> StoredDocument:
        """Cold load: the snapshot plus the log tail, applied to a fresh document."""
        async with self.readers() as session:
            stored = await read_stored(session, name)
        doc, bad = yrs.build(stored.parts)
        if bad:
            await self._quarantine(name, stored, bad)
        kept = [i for i in range(len(stored.parts)) if i not in bad]
        log = [i for i in kept if stored.row_of(i)[0] == "log"]
        log_bytes = sum(len(stored.parts[i]) for i in log)
        snapshot_bytes = stored.snapshot_bytes if 0 in kept and stored.snapshot else 0
        return StoredDocument(doc, len(log), log_bytes, snapshot_bytes)

    async def _quarantine(self, name: str, stored: StoredParts, bad: list[int]) -> None:
        """Move parts that do not apply out of the document, into the quarantine."""

        async def write(session: AsyncSession) -> int:
            return await quarantine(session, name, stored, bad, "does not apply (found on load)")

        self.quarantined += await self.committer.submit(write)

    async def compact(self, name: str) -> Compaction:
        """Fold the whole log of `name` into its snapshot; a no-op if another node won a race."""
        async with self.readers() as session:
            stored = await read_stored(session, name)
        base, ids = stored.snapshot, stored.log_ids
        folded = fold(stored.parts) if ids else Folded(b"", [])
        state = folded.state

        async def write(session: AsyncSession) -> Compaction:
            won = bool(ids) and await _replace_snapshot(session, name, base, state, len(ids))
            if won:
                reason = "does not apply (found on compaction)"
                self.quarantined += await quarantine(
                    session, name, stored, folded.bad, reason, remove=False
                )
                for start in range(0, len(ids), DELETE_CHUNK):
                    chunk = ids[start : start + DELETE_CHUNK]
                    await session.execute(
                        delete(DocumentUpdate).where(DocumentUpdate.id.in_(chunk))
                    )
            count, size = (
                await session.execute(
                    select(
                        func.count(), func.coalesce(func.sum(func.length(DocumentUpdate.data)), 0)
                    ).where(DocumentUpdate.doc == name)
                )
            ).one()
            snapshot_bytes = len(state) if won else (len(base[0]) if base and not ids else None)
            return Compaction(len(ids) if won else 0, snapshot_bytes, int(count), int(size))

        return await self.committer.submit(write)

    async def delete(self, session: AsyncSession, name: str) -> int:
        """Remove a document's log, snapshot and versions (in the caller's transaction)."""
        removed = 0
        for model in (DocumentUpdate, DocumentSnapshot, DocumentVersion, QuarantinedUpdate):
            result = await session.execute(delete(model).where(model.doc == name))
            removed += _rowcount(result)
        return removed


async def quarantine(
    session: AsyncSession,
    name: str,
    stored: StoredParts,
    bad: list[int],
    reason: str,
    *,
    remove: bool = True,
) -> int:
    """Move the parts at `bad` into the quarantine; how many moved.

    With `remove`, each row is deleted first and copied only if this transaction deleted
    it, so two nodes loading the same document quarantine it once. Without (a compaction
    about to replace them), they are copied.
    """
    moved = 0
    for index in bad:
        source, row_id = stored.row_of(index)
        if remove and not await _remove(session, name, stored, row_id):
            continue
        session.add(
            QuarantinedUpdate(doc=name, data=stored.parts[index], source=source, reason=reason)
        )
        logger.error("quarantined a %s part of %s that does not apply", source, name)
        moved += 1
    return moved


async def _remove(
    session: AsyncSession, name: str, stored: StoredParts, row_id: int | None
) -> bool:
    if row_id is not None:
        done = await session.execute(delete(DocumentUpdate).where(DocumentUpdate.id == row_id))
    else:
        version = stored.snapshot[1] if stored.snapshot else 0
        done = await session.execute(
            delete(DocumentSnapshot).where(
                DocumentSnapshot.doc == name, DocumentSnapshot.version == version
            )
        )
    return _rowcount(done) == 1


async def log_length(session: AsyncSession, name: str) -> int:
    """How many updates of `name` wait in the log (not yet compacted)."""
    count = await session.scalar(
        select(func.count()).select_from(DocumentUpdate).where(DocumentUpdate.doc == name)
    )
    return int(count or 0)


async def _replace_snapshot(
    session: AsyncSession,
    name: str,
    base: tuple[bytes, int, int] | None,
    state: bytes,
    folded: int,
) -> bool:
    """Write the new snapshot over the version read (`base`); False if another won."""
    if base is None:
        inserted = await session.execute(
            _insert(session)
            .values(doc=name, data=state, version=1, folded=folded, updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["doc"])
        )
        return _rowcount(inserted) == 1
    changed = await session.execute(
        update(DocumentSnapshot)
        .where(DocumentSnapshot.doc == name, DocumentSnapshot.version == base[1])
        .values(data=state, version=base[1] + 1, folded=base[2] + folded)
    )
    return _rowcount(changed) == 1


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(DocumentSnapshot)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
