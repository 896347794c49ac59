"""Bounded outbound side of a connection: a byte-bounded queue and the writer task draining it.

Fan-out only ever calls `offer`, which never awaits: a client that cannot keep up overflows its
own queue and is closed with `SlowConsumerError` (4008) instead of slowing anyone else down.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeAlias

from .errors import SlowConsumerError

Frame: TypeAlias = bytes | str
"""An encoded message; one object is shared by every connection it is fanned out to."""

Send: TypeAlias = Callable[[Frame], Awaitable[None]]
Join: TypeAlias = Callable[[list[Frame]], Frame]
"""Combines every frame waiting in a queue into one message (e.g. newline-separated JSON)."""

DEFAULT_MAX_QUEUE_BYTES = 1 << 20
MAX_BATCH_BYTES = 1 << 16
"""Queued frames are joined into one message up to this size (a bigger frame goes alone)."""


def frame_size(frame: Frame) -> int:
    """Bytes the frame takes on the wire, or an upper bound for non-ASCII text; O(1)."""
    if isinstance(frame, bytes) or frame.isascii():
        return len(frame)
    return 4 * len(frame)


class OutboundQueue:
    """A FIFO of frames whose total size never exceeds `max_bytes`; one consumer.

    Frames offered with `catch_up=True` (a connection's welcome snapshot and the backlog
    it recovers, bounded by the history kept) are not counted: the bound is on what piles
    up while the client is live, not on what it asked to be sent at once.
    """

    def __init__(self, *, max_bytes: int = DEFAULT_MAX_QUEUE_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.max_bytes = max_bytes
        self.pending_bytes = 0
        self.slow = False
        self.closed = False
        self._frames: deque[tuple[Frame, int]] = deque()  # (frame, bytes counted)
        self._waiter: asyncio.Future[None] | None = None

    def __len__(self) -> int:
        return len(self._frames)

    def offer(self, frame: Frame, *, catch_up: bool = False) -> bool:
        """Enqueue without waiting; on overflow mark the queue slow, close it and return False."""
        if self.closed:
            return False
        size = 0 if catch_up else frame_size(frame)
        if self.pending_bytes + size > self.max_bytes:
            self.slow = True
            self.close(discard=True)
            return False
        self._frames.append((frame, size))
        self.pending_bytes += size
        self._wake()
        return True

    def pop(self, *, within: int | None = None) -> Frame | None:
        """The oldest frame, or None if the queue is empty (or it is over `within` bytes)."""
        if not self._frames:
            return None
        if within is not None and frame_size(self._frames[0][0]) > within:
            return None
        frame, size = self._frames.popleft()
        self.pending_bytes -= size
        return frame

    async def get(self) -> Frame | None:
        """Wait for the oldest frame; None once the queue is closed and drained."""
        while not self._frames:
            if self.closed:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self.pop()

    def close(self, *, discard: bool = False) -> None:
        """Refuse new frames; pending ones are still delivered unless `discard`."""
        self.closed = True
        if discard:
            self._frames.clear()
            self.pending_bytes = 0
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class ConnectionWriter:
    """Owns a connection's `OutboundQueue` and the one task that sends from it, in order."""

    def __init__(
        self,
        send: Send,
        *,
        max_queue_bytes: int = DEFAULT_MAX_QUEUE_BYTES,
        join: Join | None = None,
    ) -> None:
        self.queue = OutboundQueue(max_bytes=max_queue_bytes)
        self._send = send
        self._join = join
        self._task: asyncio.Task[object] | None = None
        self._sending = False
        self._interrupted = False

    @property
    def slow(self) -> bool:
        """True once the queue overflowed; the session should close with `SlowConsumerError`."""
        return self.queue.slow

    def offer(self, frame: Frame, *, catch_up: bool = False) -> bool:
        """Queue a frame without waiting; False if closed or the client is too slow.

        `catch_up` frames (snapshot, recovered backlog) do not count against the bound.
        """
        if self.queue.offer(frame, catch_up=catch_up):
            return True
        if self.queue.slow and self._sending and self._task is not None and not self._interrupted:
            # The writer is stuck in send(); stop it (once) so the session can close at once.
            self._interrupted = True
            self._task.cancel()
        return False

    def start(self) -> asyncio.Task[None]:
        """Run the writer as a task; it ends after `close()` or raises `SlowConsumerError`."""
        return asyncio.create_task(self.run())

    def close(self) -> None:
        """Accept no more frames; the writer sends what is queued, then ends."""
        self.queue.close()

    async def run(self) -> None:
        """Send queued frames until closed; raise `SlowConsumerError` if the queue overflowed."""
        self._task = asyncio.current_task()
        try:
            await self._drain()
        except asyncio.CancelledError:
            if self._interrupted and self._task is not None and self._task.uncancel() == 0:
                raise SlowConsumerError() from None
            raise
        finally:
            self._task = None
            self.queue.close(discard=True)
        if self.queue.slow:
            raise SlowConsumerError()

    async def _drain(self) -> None:
        while (frame := await self.queue.get()) is not None:
            if self._join is not None and len(self.queue):
                frames = [frame]
                room = MAX_BATCH_BYTES - frame_size(frame)
                while (more := self.queue.pop(within=room)) is not None:
                    frames.append(more)
                    room -= frame_size(more)
                frame = self._join(frames)
            self._sending = True
            try:
                await self._send(frame)
            finally:
                self._sending = False
