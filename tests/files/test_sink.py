"""lms/files/sink.py: the staged file and the digests hold exactly the pieces taken, in
order, however far the worker thread falls behind, and a failed write reaches the request
(the upload's bytes must never silently differ from what was acknowledged)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from lms.files.sink import MAX_BEHIND, Sink


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
