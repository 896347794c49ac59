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
from persistence.models import DocumentSnapshot, DocumentUpdate, DocumentVersion
from persistence.models.base import utcnow

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
    """A document holding every part (snapshot, then updates); undecodable parts are skipped.

    The first part (the snapshot: large) is applied as it is, the rest merged into one
    update first: merging the snapshot too would re-encode all of it for nothing.
    """
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    if not parts:
        return doc
    try:
        doc.apply_update(parts[0])
        if len(parts) > 1:
            doc.apply_update(parts[1] if len(parts) == 2 else pycrdt.merge_updates(*parts[1:]))
        return doc
    except ValueError:
        logger.error("a stored document holds an undecodable update; loading part by part")
    doc = pycrdt.Doc()
    for index, part in enumerate(parts):
        try:
            doc.apply_update(part)
        except ValueError:
            logger.error("skipping undecodable stored update #%d", index)
    return doc


def encode_state(parts: Sequence[bytes]) -> bytes:
    """One update equal to all of `parts`, with deleted content garbage-collected.

    Yrs leaves out of `get_update` the structs and deletions whose dependencies are missing
    ("pending"); they are merged back from the parts' own diff, so no edit is ever dropped.
    """
    doc = build_doc(parts)
    state = doc.get_update()
    if not parts:
        return state
    try:
        merged = parts[0] if len(parts) == 1 else pycrdt.merge_updates(*parts)
        pending = pycrdt.get_update(merged, doc.get_state())
        return pycrdt.merge_updates(state, pending)
    except ValueError:
        return state


async def read_parts(session: AsyncSession, name: str) -> tuple[list[bytes], int, int]:
    """The snapshot and log of `name`: (parts, log length, snapshot bytes).

    The log is read before the snapshot: a compaction committing in between only moves
    updates into the snapshot, so the pair still holds everything (some of it twice, which
    Yjs ignores). Read the other way round, such a compaction would lose updates.
    """
    rows = await session.execute(
        select(DocumentUpdate.data).where(DocumentUpdate.doc == name).order_by(DocumentUpdate.id)
    )
    log = list(rows.scalars())
    snapshot = await session.scalar(
        select(DocumentSnapshot.data).where(DocumentSnapshot.doc == name)
    )
    parts = ([snapshot] if snapshot is not None else []) + log
    return parts, len(log), len(snapshot or b"")


async def current_doc(session: AsyncSession, name: str) -> pycrdt.Doc[Any]:
    """The document as stored now (snapshot plus log), built once for reading."""
    parts, _, _ = await read_parts(session, name)
    return build_doc(parts)


async def current_state(session: AsyncSession, name: str) -> bytes:
    """The document's whole state as one update (empty document if nothing is stored)."""
    parts, _, _ = await read_parts(session, name)
    return encode_state(parts)


class DocumentStore:
    """Appends, loads and compacts documents; satisfies `realtime.yjs.document.UpdateLog`."""

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

    async def append(self, name: str, data: bytes) -> None:
        """Append one update; returns once it is committed."""

        async def write(session: AsyncSession) -> None:
            session.add(DocumentUpdate(doc=name, data=data))

        await self.committer.submit(write)

    async def load(self, name: str) -> StoredDocument:
        """Cold load: the snapshot plus the log tail, applied to a fresh document."""
        async with self.readers() as session:
            parts, log_length, snapshot_bytes = await read_parts(session, name)
        log_bytes = sum(map(len, parts)) - snapshot_bytes
        return StoredDocument(build_doc(parts), log_length, log_bytes, snapshot_bytes)

    async def compact(self, name: str) -> Compaction:
        """Fold the whole log of `name` into its snapshot; a no-op if another node won a race."""
        async with self.readers() as session:
            rows = (
                await session.execute(
                    select(DocumentUpdate.id, DocumentUpdate.data)
                    .where(DocumentUpdate.doc == name)
                    .order_by(DocumentUpdate.id)
                )
            ).all()
            snapshot = await session.get(DocumentSnapshot, name)
            base = (snapshot.data, snapshot.version, snapshot.folded) if snapshot else None
        parts = ([base[0]] if base else []) + [data for _, data in rows]
        state = encode_state(parts) if rows else b""
        ids = [row_id for row_id, _ in rows]

        async def write(session: AsyncSession) -> Compaction:
            won = bool(ids) and await _replace_snapshot(session, name, base, state, len(ids))
            if won:
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
        for model in (DocumentUpdate, DocumentSnapshot, DocumentVersion):
            result = await session.execute(delete(model).where(model.doc == name))
            removed += _rowcount(result)
        return removed


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
