"""What a live document needs from durable storage: append, load, compact.

`persistence.documents.DocumentStore` implements it on SQLite and PostgreSQL; the protocols
keep `realtime` free of the database layer.
"""

from __future__ import annotations

from typing import Any, Protocol

import pycrdt


class LoadedDocument(Protocol):
    """A document read from the update log."""

    @property
    def doc(self) -> pycrdt.Doc[Any]:
        """The document, built from the snapshot and the log tail."""
        ...

    @property
    def log_length(self) -> int:
        """Updates in the log after the snapshot."""
        ...

    @property
    def log_bytes(self) -> int:
        """Their total size."""
        ...

    @property
    def snapshot_bytes(self) -> int:
        """The snapshot's size (0 without one)."""
        ...


class CompactionResult(Protocol):
    """What a compaction folded into the snapshot, and the log it left."""

    @property
    def folded(self) -> int:
        """Log entries folded (0 if another node compacted first)."""
        ...

    @property
    def snapshot_bytes(self) -> int | None:
        """The snapshot's size now, if known."""
        ...

    @property
    def remaining(self) -> int:
        """Log entries left after the snapshot."""
        ...

    @property
    def remaining_bytes(self) -> int:
        """Their total size."""
        ...


class UpdateLog(Protocol):
    """Durable storage of document updates (`persistence.documents.DocumentStore`)."""

    async def append(self, name: str, data: bytes) -> None:
        """Append an update; return once committed."""
        ...

    async def load(self, name: str) -> LoadedDocument:
        """Snapshot plus log tail."""
        ...

    async def compact(self, name: str) -> CompactionResult:
        """Fold the log into the snapshot."""
        ...
