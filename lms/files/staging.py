"""Uploads in progress on this node's disk (``<data_dir>/uploads``): one file per upload
whose size is the upload's offset. Chunks are appended as they arrive, never held whole;
the content digest (BLAKE3) of the bytes so far is kept while one request follows another.
The writing and hashing run in a worker thread beside the event loop (``lms.files.sink``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from lms.files.body import Body
from lms.files.errors import UploadTooLarge
from lms.files.sink import Sink
from lms.files.sniff import SNIFF_BYTES
from lms.files.tus import Checksum
from persistence.blobs import digest as content_digest


@dataclass
class _Progress:
    offset: int
    digest: content_digest.Hasher = field(default_factory=content_digest.new)


class Staging:
    """The staged bytes of this node's uploads, one writer per upload at a time."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}
        self._progress: dict[uuid.UUID, _Progress] = {}

    def path(self, upload_id: uuid.UUID) -> Path:
        """Where the upload's bytes are staged."""
        return self.root / upload_id.hex

    def create(self, upload_id: uuid.UUID) -> None:
        """Start an empty upload."""
        self.path(upload_id).touch(exist_ok=False)
        self._progress[upload_id] = _Progress(0)

    def exists(self, upload_id: uuid.UUID) -> bool:
        """Whether this node stages the upload."""
        return self.path(upload_id).is_file()

    def offset(self, upload_id: uuid.UUID) -> int:
        """How many bytes have arrived."""
        return self.path(upload_id).stat().st_size

    def lock(self, upload_id: uuid.UUID) -> asyncio.Lock:
        """The lock one PATCH of the upload holds while it appends."""
        return self._locks.setdefault(upload_id, asyncio.Lock())

    async def append(
        self,
        upload_id: uuid.UUID,
        offset: int,
        body: Body,
        *,
        limit: int,
        checksum: Checksum | None,
    ) -> int:
        """Write ``body`` at ``offset`` (at most ``limit`` bytes) and return the new offset.

        A broken connection keeps what arrived (tus resumes from there) unless the chunk
        has a checksum, which needs it whole; a failed checksum or a chunk past ``limit``
        drops the whole chunk. Call with ``lock(upload_id)`` held.
        """
        path = self.path(upload_id)
        progress = self._progress.get(upload_id)
        if progress is None or progress.offset != offset:
            progress = None  # hashed again when complete
        self._progress.pop(upload_id, None)
        verifier = checksum.hasher() if checksum else None
        hashes = [progress.digest] if progress is not None else []
        if verifier is not None:
            hashes.append(verifier)
        fd = os.open(path, os.O_WRONLY)
        sink = Sink(fd, offset, hashes)
        try:
            os.ftruncate(fd, offset)
            await body.pour(sink, limit)
            await sink.finish()
            if checksum is not None and verifier is not None:
                checksum.verify(verifier.digest())
        except BaseException as exc:
            keep = checksum is None and not isinstance(exc, UploadTooLarge)
            try:
                if keep:
                    sink.settle()  # what arrived is written (and hashed) before the answer
                else:
                    sink.discard()  # the worker stops before the descriptor closes
            except BaseException:
                keep = False
            if not keep:
                os.ftruncate(fd, offset)
                progress = None
            elif progress is not None:
                progress.offset = offset + sink.written
                self._progress[upload_id] = progress
            raise
        finally:
            os.close(fd)
        if progress is not None:
            progress.offset = offset + sink.written
            self._progress[upload_id] = progress
        return offset + sink.written

    async def digest(self, upload_id: uuid.UUID) -> str:
        """The content digest of the staged bytes (kept while appending, else read again)."""
        progress = self._progress.get(upload_id)
        if progress is not None and progress.offset == self.offset(upload_id):
            return progress.digest.hexdigest()
        digest, _ = await asyncio.to_thread(content_digest.of_file, self.path(upload_id))
        return digest

    def sync(self, upload_id: uuid.UUID) -> None:
        """Flush the staged bytes to the disk (``fsync``; blocking: call in a thread)."""
        fd = os.open(self.path(upload_id), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def head(self, upload_id: uuid.UUID) -> bytes:
        """The first bytes, to sniff the content type from."""
        with self.path(upload_id).open("rb") as file:
            return file.read(SNIFF_BYTES)

    async def forget(self, upload_id: uuid.UUID) -> None:
        """Drop the staged bytes (moved into the store, terminated or expired). The file is
        removed in a worker thread: unlinking 1 GiB takes 0.17-0.33 s here (freeing its
        extents and cached pages), which would stall the event loop."""
        self._progress.pop(upload_id, None)
        lock = self._locks.get(upload_id)
        if lock is not None and not lock.locked():
            self._locks.pop(upload_id, None)
        await asyncio.to_thread(_remove, self.path(upload_id))

    def staged(self) -> list[uuid.UUID]:
        """Every upload staged here."""
        found = []
        for entry in self.root.iterdir():
            with contextlib.suppress(ValueError):
                found.append(uuid.UUID(hex=entry.name))
        return found


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
