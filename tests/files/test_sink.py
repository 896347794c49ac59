"""lms/files/sink.py: the staged file and the digests hold exactly the pieces taken, in
order, however far the worker thread falls behind, and a failed write reaches the request
(the upload's bytes must never silently differ from what was acknowledged)."""

from __future__ import annotations

import ctypes
import hashlib
import mmap
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kits.servers import ROOT
from lms.files.sink import KEEP_CACHED, MAX_BEHIND, WRITEBACK_BYTES, Sink


def pieces(total: int) -> list[bytes]:
    """Random pieces of uneven sizes (some tiny, some past a megabyte)."""
    found, size, step = [], 0, 1
    while size < total:
        piece = os.urandom(min(step, total - size))
        found.append(piece)
        size += len(piece)
        step = step * 7 % 1_500_001 + 1
    return found


async def test_pieces_past_the_limit_are_written_and_hashed_in_order(tmp_path: Path) -> None:
    path = tmp_path / "staged"
    path.write_bytes(b"kept")
    data = pieces(3 * MAX_BEHIND + 12_345)  # the loop waits for the worker several times
    fd = os.open(path, os.O_WRONLY)
    try:
        digest, other = hashlib.sha256(b"kept"), hashlib.md5(usedforsecurity=False)
        sink = Sink(fd, 4, [digest, other])
        for piece in data:
            await sink.add(piece)
        await sink.finish()
    finally:
        os.close(fd)
    body = b"".join(data)
    assert sink.written == len(body)
    assert path.read_bytes() == b"kept" + body
    assert digest.hexdigest() == hashlib.sha256(b"kept" + body).hexdigest()
    assert other.hexdigest() == hashlib.md5(body, usedforsecurity=False).hexdigest()


async def test_settle_writes_what_was_taken_before_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "staged"
    path.touch()
    data = pieces(MAX_BEHIND // 2)
    fd = os.open(path, os.O_WRONLY)
    try:
        digest = hashlib.sha256()
        sink = Sink(fd, 0, [digest])
        for piece in data:
            await sink.add(piece)
        sink.settle()  # as after a dropped connection: no finish
    finally:
        os.close(fd)
    body = b"".join(data)
    assert sink.written == len(body)
    assert path.read_bytes() == body
    assert digest.hexdigest() == hashlib.sha256(body).hexdigest()


async def test_a_failed_write_reaches_the_caller(tmp_path: Path) -> None:
    path = tmp_path / "staged"
    path.touch()
    fd = os.open(path, os.O_RDONLY)  # every write fails (EBADF), as on a broken disk
    try:
        sink = Sink(fd, 0, [hashlib.sha256()])
        with pytest.raises(OSError, match="Bad file descriptor"):  # noqa: PT012 - any of them
            for piece in pieces(2 * MAX_BEHIND):
                await sink.add(piece)
            await sink.finish()
        with pytest.raises(OSError, match="Bad file descriptor"):
            sink.settle()
        sink.discard()
    finally:
        os.close(fd)
    assert sink.written == 0
    assert path.stat().st_size == 0


def filesystem(path: Path) -> str:
    """The type of the filesystem holding ``path`` (the longest mount point above it)."""
    found, longest = "", -1
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _, point, kind, *_ = line.split()
        if path.resolve().is_relative_to(point) and len(point) > longest:
            found, longest = kind, len(point)
    return found


def resident_pages(path: Path) -> list[bool]:
    """Which of the file's pages are in the page cache (``mincore`` of a mapping)."""
    size = path.stat().st_size
    pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int)
    libc.mmap.argtypes += (ctypes.c_int, ctypes.c_long)
    libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
    libc.mincore.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p)
    fd = os.open(path, os.O_RDONLY)
    try:
        address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        assert address != ctypes.c_void_p(-1).value
        try:
            vector = ctypes.create_string_buffer(pages)
            assert libc.mincore(address, size, vector) == 0
            return [bool(byte & 1) for byte in vector.raw]
        finally:
            libc.munmap(address, size)
    finally:
        os.close(fd)


async def written(path: Path, data: list[bytes], digests: list[hashlib._Hash]) -> None:
    """``data`` written into a new file at ``path`` through a sink, finished."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        sink = Sink(fd, 0, digests)
        for piece in data:
            await sink.add(piece)
        await sink.finish()
    finally:
        os.close(fd)


MEMORY_ONLY = ("tmpfs", "ramfs")


@pytest.fixture
def on_a_disk(tmp_path: Path) -> Iterator[Path]:
    """A directory on a disk-backed filesystem: the temporary one, or (where that is tmpfs,
    whose page cache is the only copy) one inside the checkout."""
    if filesystem(tmp_path) not in MEMORY_ONLY:
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(dir=ROOT, prefix=".sink-test-") as found:
        assert filesystem(Path(found)) not in MEMORY_ONLY, "no disk-backed directory here"
        yield Path(found)


async def test_pages_far_behind_the_write_leave_the_cache(on_a_disk: Path) -> None:
    """A large upload cycles through a few MiB of page cache (fresh pages cost several
    times reused ones on this virtual machine); what it wrote stays exact."""
    path = on_a_disk / "staged"
    data = pieces(KEEP_CACHED + 4 * WRITEBACK_BYTES + 12_345)
    digest = hashlib.sha256()
    await written(path, data, [digest])
    body = b"".join(data)
    resident = resident_pages(path)
    per_page = mmap.PAGESIZE
    assert not any(resident[: 3 * WRITEBACK_BYTES // per_page])  # dropped once on the disk
    assert all(resident[-(KEEP_CACHED // per_page) :])  # the last KEEP_CACHED bytes stay
    assert path.read_bytes() == body
    assert digest.hexdigest() == hashlib.sha256(body).hexdigest()


async def test_a_small_file_stays_cached(tmp_path: Path) -> None:
    path = tmp_path / "staged"
    await written(path, pieces(KEEP_CACHED), [])
    assert all(resident_pages(path))
