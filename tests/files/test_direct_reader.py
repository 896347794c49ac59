"""lms/files/direct.py's reader on a socket pair, without a node: bodies longer than its ring
of buffers (so every buffer is reused while the hashing thread works behind the writes) end
up in the file and in every digest exactly as sent, in order, and a sender that leaves
halfway leaves exactly what arrived, written and hashed."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import threading
from pathlib import Path

from lms.files import direct
from lms.files.sink import Sink
from ops.body_tap import Detached


def send_in_pieces(sock: socket.socket, data: bytes, close: bool) -> threading.Thread:
    """Send ``data`` from a thread in uneven pieces (some tiny, some past a buffer)."""

    def run() -> None:
        at, step = 0, 1
        while at < len(data):
            sock.sendall(data[at : at + step])
            at += step
            step = step * 13 % 2_500_001 + 1
        if close:
            sock.close()

    sender = threading.Thread(target=run)
    sender.start()
    return sender


def send_until_refused(sock: socket.socket, data: bytes) -> None:
    """Send ``data`` until the receiver closes."""
    with contextlib.suppress(OSError):
        sock.sendall(data)


def staged(path: Path) -> int:
    """A staging file holding four bytes already, open for writing."""
    path.write_bytes(b"head")
    return os.open(path, os.O_WRONLY)


async def read_into(path: Path, data: bytes, count: int, close: bool) -> tuple[direct.Result, Sink]:
    fd = staged(path)
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    try:
        sink = Sink(fd, 4, [hashlib.sha256(b"head"), hashlib.md5(usedforsecurity=False)])
        sender = send_in_pieces(theirs, data, close)
        result = await direct.read(Detached(os.dup(ours.fileno()), count, b"held"), sink)
        sender.join()
    finally:
        os.close(fd)
        ours.close()
        theirs.close()
    return result, sink


async def test_a_body_past_the_ring_is_written_and_hashed_in_order(tmp_path: Path) -> None:
    data = os.urandom(direct.RING * direct.READ_BYTES * 2 + 12_345)
    result, sink = await read_into(tmp_path / "staged", data, len(data), close=False)
    assert result.outcome is direct.Outcome.DONE
    body = b"held" + data
    assert (result.read, sink.written) == (len(data), len(body))
    assert (tmp_path / "staged").read_bytes() == b"head" + body
    assert sink.hashes[0].hexdigest() == hashlib.sha256(b"head" + body).hexdigest()
    assert sink.hashes[1].hexdigest() == hashlib.md5(body, usedforsecurity=False).hexdigest()


async def test_a_sender_that_leaves_halfway_leaves_what_arrived(tmp_path: Path) -> None:
    data = os.urandom(direct.READ_BYTES * 3 + 777)
    result, sink = await read_into(tmp_path / "staged", data, len(data) * 2, close=True)
    assert result.outcome is direct.Outcome.ENDED
    body = b"held" + data
    assert (result.read, sink.written) == (len(data), len(body))
    assert (tmp_path / "staged").read_bytes() == b"head" + body
    assert sink.hashes[0].hexdigest() == hashlib.sha256(b"head" + body).hexdigest()


async def test_a_failed_write_ends_the_reading_with_its_error(tmp_path: Path) -> None:
    """The writing thread's error reaches the route (the bytes are not acknowledged), and
    nothing after the failed buffer is hashed."""
    path = tmp_path / "staged"
    path.touch()
    fd = os.open(path, os.O_RDONLY)  # every write fails (EBADF), as on a broken disk
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    data = os.urandom(direct.RING * direct.READ_BYTES * 2)
    try:
        sink = Sink(fd, 0, [hashlib.sha256()])
        sender = threading.Thread(target=send_until_refused, args=(theirs, data))
        sender.start()
        result = await direct.read(Detached(os.dup(ours.fileno()), len(data), b""), sink)
        ours.close()  # the sender's writes fail once nobody reads
        sender.join()
    finally:
        os.close(fd)
        theirs.close()
    assert result.outcome is direct.Outcome.FAILED
    assert isinstance(result.error, OSError)
    assert sink.written == 0
    assert path.stat().st_size == 0
