"""Where a tus chunk's bytes go: appended to the staging file and fed to the hashes (the
upload's content digest, the chunk's ``Upload-Checksum``) by a worker thread, in the order they
arrived, while the event loop receives the next ones.

Why: the event loop receives a body in ~250 KiB pieces (uvloop's read size); writing each
to the page cache and hashing it (then SHA-256: ~0.75 s per GiB on one core here) on the loop
kept one core busy while the other one idled. ``os.pwrite`` and the hashes release the
GIL, so the worker runs beside the loop. Each piece is handed over as it arrives (a HEAD
during a PATCH sees the bytes staged so far), and the loop stops taking pieces while the
worker is more than ``MAX_BEHIND`` bytes behind: memory stays bounded whatever the
upload's size or the disk's speed. A worker thread is only taken while there are pieces
to write (a slow client holds none).

The written pages are also handed to the kernel's writeback every ``WRITEBACK_BYTES``
(``sync_file_range`` with ``SYNC_FILE_RANGE_WRITE``: start writing, do not wait), so the
``fsync`` that precedes the staged file's rename into the blob store finds little left to
write instead of the whole upload: the disk works while the bytes arrive.

Pages more than ``KEEP_CACHED`` bytes behind the write are dropped from the page cache once
on the disk (wait for their writeback, then ``POSIX_FADV_DONTNEED``): an upload cycles
through a few tens of MiB of page cache instead of taking fresh pages for every byte, as
PostgreSQL's ring buffers do for bulk writes. Fresh pages cost far more than reused ones
on a virtual machine that hands freed memory back to its host (free page reporting): 1 GiB
of 64 KiB writes took 0.34 CPU-s into recently freed pages and 1.1-2.8 into pages not used
for a while, 0.52-0.59 with the drop (docs/benchmarks.md, "Content: uploads"). A large
upload no longer pushes other files out of the cache either; its first download reads the
disk. Files up to ``KEEP_CACHED`` stay cached whole.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from persistence.blobs.digest import Hasher

MAX_BEHIND = 8 << 20
"""Bytes taken but not yet written at most (per upload), before the loop waits."""
RESUME_BEHIND = 2 << 20
"""How far the worker catches up before a waiting loop takes pieces again."""
WRITEBACK_BYTES = 8 << 20
"""Written bytes handed to the kernel's writeback at once."""
WRITE_BYTES = 1 << 20
"""Bytes given to one ``pwrite`` at most. Into reused page-cache pages (``KEEP_CACHED``) 1
MiB writes cost 0.30-0.34 CPU-s per GiB here, 64 KiB ones 0.42-0.46; into fresh pages
(before the drop-behind) it was the other way round (docs/benchmarks.md, "Content:
uploads")."""
KEEP_CACHED = 16 << 20
"""Bytes behind the write kept in the page cache (the rest is dropped once on the disk)."""
SYNC_FILE_RANGE_WAIT_BEFORE = 1
SYNC_FILE_RANGE_WRITE = 2
SYNC_FILE_RANGE_WAIT_AFTER = 4
START = SYNC_FILE_RANGE_WRITE
"""``sync_file_range`` flags: start writing the range, do not wait."""
WRITTEN_OUT = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER
"""``sync_file_range`` flags: write the range and wait until it is on the disk."""

_workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="upload-sink")
"""Writers of uploads with pieces waiting (four uploads write at the same moment at most)."""


def _load_sync_file_range() -> Callable[[int, int, int, int], None] | None:
    """``sync_file_range(fd, offset, length, flags)`` from the C library (Python's ``os``
    has no binding), raising ``OSError``; None where there is none (not Linux)."""
    try:
        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    function.restype = ctypes.c_int

    def sync_file_range(fd: int, offset: int, length: int, flags: int) -> None:
        if function(fd, offset, length, flags) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error))

    return sync_file_range


_sync_file_range = _load_sync_file_range()


class _Stopped(Exception):
    """The sink was discarded: the worker writes nothing more."""


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class Sink:
    """Appends pieces to an open file from ``position`` on and feeds them to ``hashes``,
    in a worker thread. ``written`` is exact once ``finish`` or ``settle`` returned."""

    def __init__(self, fd: int, position: int, hashes: Sequence[Hasher]) -> None:
        self.fd = fd
        self.position = position
        self.hashes = tuple(hashes)
        self._loop = asyncio.get_running_loop()
        self._pieces: collections.deque[bytes] = collections.deque()
        self._lock = threading.Lock()  # guards _draining against the queue's emptiness
        self._draining = False
        self._job: Future[None] | None = None
        self._taken = 0  # bytes handed over (the loop's count)
        self._done = 0  # bytes written and hashed (the worker's count)
        self._synced = position  # where the writeback was last started
        self._dropped = position  # where the page cache was last dropped up to
        self._error: BaseException | None = None
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []  # (behind at most, waiter)

    @property
    def written(self) -> int:
        """Bytes written and hashed since the start."""
        return self._done

    async def add(self, piece: bytes) -> None:
        """Hand ``piece`` to the worker; wait while it is too far behind."""
        if self.offer(piece):
            await self.caught_up()

    def offer(self, piece: bytes) -> bool:
        """Hand ``piece`` to the worker (at once, from any callback on the loop); True when
        the caller should take no more until ``caught_up()`` is done."""
        if self._error is not None:
            raise self._error
        if not piece:
            return False
        self._pieces.append(piece)
        self._taken += len(piece)
        with self._lock:
            if not self._draining:
                self._draining = True
                self._job = _workers.submit(self._drain)
        return self._taken - self._done > MAX_BEHIND

    def write_now(self, piece: bytes | memoryview) -> None:
        """Write and hash ``piece`` in the calling thread (a worker that reads a body itself,
        ``lms.files.direct``; never while pieces are queued by ``offer``)."""
        self.store(piece)
        self.digest(piece)

    def store(self, piece: bytes | memoryview) -> None:
        """Write ``piece`` in the calling thread without hashing it: ``digest(piece)`` must
        follow, in the same order, from one other thread at most (``lms.files.direct``
        hashes behind its writes); ``written`` counts a piece once it is digested."""
        if self._error is not None:
            raise self._error
        self._taken += len(piece)
        try:
            self._store(piece)
        except BaseException as exc:  # as the worker's: settle() raises it, the bytes go
            self._error = exc
            raise

    def digest(self, piece: bytes | memoryview) -> None:
        """Feed a stored ``piece`` to the hashes and count it as written."""
        for digest in self.hashes:
            digest.update(piece)
        self._done += len(piece)

    async def caught_up(self) -> None:
        """Wait until the worker is within ``RESUME_BEHIND`` bytes (or stopped)."""
        await self._catch_up(RESUME_BEHIND)

    async def finish(self) -> None:
        """Wait until every piece is written and hashed (raises what the writes raised)."""
        await self._catch_up(0)
        if self._error is not None:
            raise self._error

    def settle(self) -> None:
        """After a failure: wait (blocking, at most ``MAX_BEHIND`` bytes' work) until the
        pieces taken are written. Raises what the writes raised."""
        if self._job is not None:
            self._job.result()
        if self._error is not None:
            raise self._error

    def discard(self) -> None:
        """After a failure whose bytes are dropped: stop the worker and wait for it (the
        file's descriptor is closed next)."""
        if self._error is None:
            self._error = _Stopped()
        if self._job is not None:
            self._job.result()

    async def _catch_up(self, target: int) -> None:
        while self._behind(target):
            waiter = self._loop.create_future()
            with self._lock:  # the worker wakes waiters under it: none is missed
                if not self._behind(target):
                    return
                self._waiters.append((target, waiter))
            await waiter

    def _behind(self, target: int) -> bool:
        return self._draining and self._error is None and self._taken - self._done > target

    def _drain(self) -> None:
        """The worker: write and hash the waiting pieces in order, then give the thread back."""
        while True:
            with self._lock:
                if not self._pieces or self._error is not None:
                    self._draining = False
                    self._wake(None)
                    return
                piece = self._pieces.popleft()
            try:
                self._write(piece)
            except BaseException as exc:  # the loop raises it at the next piece or the end
                self._error = exc
            if self._waiters:
                with self._lock:
                    self._wake(self._taken - self._done)

    def _wake(self, behind: int | None) -> None:
        """Wake the waiters content with ``behind`` bytes left (None: all), lock held."""
        keep = []
        for target, waiter in self._waiters:
            if behind is None or behind <= target:
                with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits
                    self._loop.call_soon_threadsafe(_resolve, waiter)
            else:
                keep.append((target, waiter))
        self._waiters = keep

    def _write(self, piece: bytes | memoryview) -> None:
        self._store(piece)
        self.digest(piece)

    def _store(self, piece: bytes | memoryview) -> None:
        view = memoryview(piece)
        while view:
            count = os.pwrite(self.fd, view[:WRITE_BYTES], self.position)
            self.position += count
            view = view[count:]
        if _sync_file_range is not None and self.position - self._synced >= WRITEBACK_BYTES:
            with contextlib.suppress(OSError):  # advice: the fsync before the rename reports
                _sync_file_range(self.fd, self._synced, self.position - self._synced, START)
            self._synced = self.position
            end = (self._synced - KEEP_CACHED) // WRITEBACK_BYTES * WRITEBACK_BYTES
            if end > self._dropped:  # aligned: a large folio across the end would stay
                self._drop_behind(end)

    def _drop_behind(self, end: int) -> None:
        """Wait until the bytes before ``end`` are on the disk, then drop their pages from
        the cache. A write error seen here is raised: this wait would consume it, so the
        ``fsync`` before the rename could no longer report it."""
        assert _sync_file_range is not None
        _sync_file_range(self.fd, self._dropped, end - self._dropped, WRITTEN_OUT)
        os.posix_fadvise(self.fd, self._dropped, end - self._dropped, os.POSIX_FADV_DONTNEED)
        self._dropped = end
