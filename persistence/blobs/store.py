"""The blob store protocol: streamed puts that hash as they go, ranged streamed reads.

Keys are relative, slash-separated paths of plain segments (``files/blake3/ab/abcd...``);
``check_key`` refuses anything else, so no key can name a place outside the store.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from persistence.blobs import digest

MAX_KEY_LENGTH = 1024
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,254}")


class BlobError(Exception):
    """Base of the blob store's errors."""


class BlobNotFound(BlobError):
    """No blob has this key."""


class InvalidKey(BlobError):
    """The key is not a plain relative path of safe segments."""


@dataclass(frozen=True)
class BlobInfo:
    """What the store knows about one blob."""

    key: str
    size: int
    etag: str
    content_type: str
    modified: datetime


@dataclass(frozen=True)
class Written:
    """The outcome of a put: how many bytes, and their content digest (BLAKE3, hex)."""

    key: str
    size: int
    digest: str


def check_key(key: str) -> str:
    """Return ``key`` if every segment is plain (no ``..``, no leading dot, no slashes at
    either end, no control characters); raise ``InvalidKey`` otherwise."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidKey("a key is 1 to 1024 characters")
    if not all(_SEGMENT.fullmatch(part) for part in key.split("/")):
        raise InvalidKey(f"not a plain relative key: {key!r}")
    return key


class Hashing:
    """Counts and hashes the chunks of an async byte stream as they pass through."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = chunks
        self._hash = digest.new()
        self.size = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            if chunk:
                self._hash.update(chunk)
                self.size += len(chunk)
                yield chunk

    @property
    def digest(self) -> str:
        """The hex digest of everything that passed so far."""
        return self._hash.hexdigest()


@runtime_checkable
class BlobStore(Protocol):
    """Where files' bytes live: the data directory, or an S3-compatible bucket."""

    async def put(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str = "application/octet-stream",
    ) -> Written:
        """Store the streamed bytes under ``key`` (replacing any blob there) and return
        their size and content digest; a reader never sees a partial blob."""
        ...

    async def put_file(
        self,
        key: str,
        path: Path,
        *,
        content_type: str = "application/octet-stream",
        digest: str | None = None,
    ) -> Written:
        """Store a local file under ``key``; the file may be moved away (a rename when it
        can), so the caller must not use ``path`` afterwards. ``digest``: its content digest
        when the caller already knows it (else it is computed)."""
        ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Stream bytes ``start`` to ``end`` (exclusive; None: the end) of the blob."""
        ...

    async def stat(self, key: str) -> BlobInfo:
        """Size, entity tag, content type and modification time (``BlobNotFound``)."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether a blob has ``key``."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the blob if it exists (deleting a missing key is not an error)."""
        ...

    def list(self, prefix: str = "") -> AsyncIterator[str]:
        """The keys starting with ``prefix``, in no particular order."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The blob's file on this machine when the store is a local directory, else None."""
        ...
