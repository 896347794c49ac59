"""A tus chunk's body read straight from the socket by a worker thread, written and hashed
there: the event loop does no work per byte.

Why: through the event loop every ~256 KiB piece was read into a new bytes object (fresh
memory: page faults and zeroing), copied again by the HTTP parser into the piece it hands
over, passed through Python callbacks and handed to the sink's thread, whose ``pwrite`` and
hash then read it from the other core's cache. With a known ``Content-Length`` the route
``detach``es the rest of the body (``ops.body_tap``): one thread fills a small ring of
reused buffers with ``recv_into``, a second writes each filled buffer (``pwrite``), a third
hashes the written ones, in order, and gives them back; so the receive, the write and
the digest spread over the cores (per GiB here: ~0.3, ~0.7 and ~0.7 CPU-s with SHA-256;
BLAKE3 took the digest's to ~0.13). Each call releases the GIL (docs/benchmarks.md,
"Content: uploads").

It never reads past the body (the next pipelined request stays in the socket for the
parser). A client that sends nothing for ``STALL_SECONDS`` gets its connection back on the
event loop (the parser skips what the thread read; ``lms.files.body`` takes the rest as
before), so a slow or stalled client holds no thread; at most ``READERS`` bodies are read
this way at once (others take the event loop's path). End of stream before the body's end
is a disconnection.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import queue
import select
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from lms.files.sink import Sink
from ops.body_tap import Detached

READ_BYTES = 1 << 20
"""Bytes of one buffer of a reader's ring: filled by ``recv_into`` until full (or the socket
has nothing more for now), then written and handed to the hashing thread."""
RING = 4
"""Buffers per reader thread: the reader fills one while the writer and the hasher work on
the others (``RING * READ_BYTES`` per reader thread, allocated once)."""
STALL_SECONDS = 0.5
"""Idle time after which the thread hands the body back to the event loop."""
READERS = 4
"""Bodies read by threads at once, at most."""

_readers = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="upload-recv")
_writers = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="upload-write")
_hashers = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="upload-hash")
_busy = 0  # bodies being read by threads (changed on the event loop only)
_rings = threading.local()


class Outcome(enum.Enum):
    """How a thread's reading of a body ended."""

    DONE = "every byte read"
    STALLED = "the client sent nothing for STALL_SECONDS"
    ENDED = "the client closed or reset the connection"
    STOPPED = "the route stopped waiting"
    FAILED = "the sink failed (its error is ``error``)"


@dataclass
class Result:
    """What a thread's reading did: how it ended, the bytes it read from the socket."""

    outcome: Outcome
    read: int
    error: Exception | None = None


def available() -> bool:
    """Whether a reader thread is free (else the event loop reads the body)."""
    return _busy < READERS


def _ring() -> list[memoryview]:
    """The calling reader thread's buffers (made on its first body)."""
    ring: list[memoryview] | None = getattr(_rings, "ring", None)
    if ring is None:
        ring = _rings.ring = [memoryview(bytearray(READ_BYTES)) for _ in range(RING)]
    return ring


class _Stages:
    """Writes the ring's filled buffers in a second thread and hashes the written ones in a
    third, in the order they were received, then gives each buffer back to the reader: the
    receive, the write (the page-cache copy and the filesystem's work) and the digest of
    successive buffers run at once, so their work spreads over the cores instead of the
    receive and the write adding up on one (each call releases the GIL)."""

    def __init__(self, sink: Sink, ring: list[memoryview]) -> None:
        self.sink = sink
        self.ring = ring
        self.free: queue.SimpleQueue[int] = queue.SimpleQueue()
        self.filled: queue.SimpleQueue[tuple[int, int] | None] = queue.SimpleQueue()
        self.written: queue.SimpleQueue[tuple[int, int] | None] = queue.SimpleQueue()
        for index in range(len(ring)):
            self.free.put(index)
        self.error: Exception | None = None
        self.writing = _writers.submit(self._write)
        self.hashing = _hashers.submit(self._hash)

    def _write(self) -> None:
        try:
            while (item := self.filled.get()) is not None:
                index, length = item
                if self.error is None:
                    try:
                        self.sink.store(self.ring[index][:length])
                    except Exception as exc:  # raised by the reader (the bytes are lost)
                        self.error = exc
                    else:
                        self.written.put(item)
                        continue
                self.free.put(index)
        finally:
            self.written.put(None)

    def _hash(self) -> None:
        while (item := self.written.get()) is not None:
            index, length = item
            if self.error is None:
                try:
                    self.sink.digest(self.ring[index][:length])
                except Exception as exc:  # raised by the reader once it is done
                    self.error = exc
            self.free.put(index)

    def take(self) -> int:
        """A free buffer's index (waits for one); raises what a stage raised."""
        index = self.free.get()
        if self.error is not None:
            self.free.put(index)
            raise self.error
        return index

    def close(self) -> None:
        """Wait until every filled buffer is written and hashed (``sink.written`` is then
        exact); raises what a stage raised."""
        self.filled.put(None)
        self.writing.result()
        self.hashing.result()
        if self.error is not None:
            raise self.error


class _Reader:
    """Reads ``detached.count`` bytes from its descriptor into the sink (in a thread)."""

    def __init__(self, detached: Detached, sink: Sink) -> None:
        self.detached = detached
        self.sink = sink
        self.read = 0  # bytes read from the socket (not counting ``held``)
        self.stopped = False
        self.sock = socket.socket(fileno=detached.fd)

    def run(self) -> Result:
        try:
            return Result(self._run(), self.read)
        except Exception as exc:  # the route raises it once the connection is given back
            return Result(Outcome.FAILED, self.read, exc)

    def _run(self) -> Outcome:
        sink = self.sink
        self.sock.setblocking(False)  # the descriptor is the event loop's: non-blocking already
        if self.detached.held:
            sink.write_now(self.detached.held)
        ring = _ring()
        stages = _Stages(sink, ring)
        filled = 0
        try:
            index = stages.take()
            while True:
                outcome, got = self._fill(ring[index], filled)
                filled += got
                if filled and (outcome is not None or filled == READ_BYTES or got == 0):
                    stages.filled.put((index, filled))  # what arrived is kept, whatever follows
                    filled = 0
                    if outcome is None:
                        index = stages.take()
                if outcome is not None:
                    return outcome
        finally:
            stages.close()

    def _fill(self, buffer: memoryview, filled: int) -> tuple[Outcome | None, int]:
        """Receive into ``buffer`` after ``filled`` bytes: the bytes received (0: none for
        now, the buffer should be written) and the outcome when the reading ends."""
        count = self.detached.count
        if self.read >= count:
            return Outcome.DONE, 0
        if self.stopped:
            return Outcome.STOPPED, 0
        want = min(READ_BYTES - filled, count - self.read)
        try:
            got = self.sock.recv_into(buffer[filled:], want)
        except BlockingIOError:
            if filled:
                return None, 0  # write what is there before waiting
            poller = select.poll()
            poller.register(self.sock, select.POLLIN)
            if not poller.poll(int(STALL_SECONDS * 1000)):
                return Outcome.STALLED, 0
            return None, 0
        except ConnectionError:
            return Outcome.ENDED, 0
        if not got:
            return Outcome.ENDED, 0
        self.read += got
        return (Outcome.DONE if self.read >= count else None), got

    def stop(self) -> None:
        """Make ``run`` return soon (its ``poll`` wakes on the shut-down reading side)."""
        self.stopped = True
        with contextlib.suppress(OSError):  # already gone
            self.sock.shutdown(socket.SHUT_RD)


async def read(detached: Detached, sink: Sink) -> Result:
    """Read the detached body's rest into ``sink`` in a thread (what the sink raises comes
    back in the result); on cancellation the thread is stopped and waited for first."""
    global _busy
    reader = _Reader(detached, sink)
    job = _readers.submit(reader.run)
    _busy += 1
    try:
        return await asyncio.wrap_future(job)
    except BaseException:  # cancelled: the thread must be done before the sink's file closes
        reader.stop()
        with contextlib.suppress(BaseException):
            job.exception()  # waits (it stops within one read or write)
        raise
    finally:
        _busy -= 1
        reader.sock.close()
