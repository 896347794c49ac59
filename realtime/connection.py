"""Bounded outbound side of a connection: a byte-bounded queue and the writer draining it.

Fan-out only ever calls `offer`, which never awaits: a client that cannot keep up overflows its
own queue and is closed with `SlowConsumerError` (4008) instead of slowing anyone else down.
An idle connection holds no writer task: one starts when a frame is queued and ends after
`IDLE_SECONDS` without sending (see `ConnectionWriter`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeAlias

from .errors import SlowConsumerError

Frame: TypeAlias = bytes | str
"""An encoded message; one object is shared by every connection it is fanned out to."""

Send: TypeAlias = Callable[[Frame], Awaitable[None]]
Join: TypeAlias = Callable[[list[Frame]], Frame]
"""Combines every frame waiting in a queue into one message (e.g. newline-separated JSON)."""
OnError: TypeAlias = Callable[[BaseException], None]

DEFAULT_MAX_QUEUE_BYTES = 1 << 20
MAX_BATCH_BYTES = 1 << 16
"""Queued frames are joined into one message up to this size (a bigger frame goes alone)."""
IDLE_SECONDS = 1.0
"""An on-demand writer that sent nothing for this long (one to two periods) ends its task."""


def frame_size(frame: Frame) -> int:
    """Bytes the frame takes on the wire, or an upper bound for non-ASCII text; O(1)."""
    if isinstance(frame, bytes) or frame.isascii():
        return len(frame)
    return 4 * len(frame)


class OutboundQueue:
    """A FIFO of frames whose total size never exceeds `max_bytes`; one consumer.

    Frames offered with `catch_up=True` (a connection's welcome snapshot and the backlog
    it recovers, bounded by the history kept) are not counted: the bound is on what piles
    up while the client is live, not on what it asked to be sent at once. Two plain lists
    and a head index, emptied when drained: an idle queue holds two empty lists.
    """

    __slots__ = (
        "_frames",
        "_head",
        "_sizes",
        "_waiter",
        "closed",
        "max_bytes",
        "pending_bytes",
        "slow",
    )

    def __init__(self, *, max_bytes: int = DEFAULT_MAX_QUEUE_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.max_bytes = max_bytes
        self.pending_bytes = 0
        self.slow = False
        self.closed = False
        self._frames: list[Frame] = []
        self._sizes: list[int] = []  # bytes counted per frame (0 for catch-up frames)
        self._head = 0
        self._waiter: asyncio.Future[None] | None = None

    def __len__(self) -> int:
        return len(self._frames) - self._head

    def offer(self, frame: Frame, *, catch_up: bool = False) -> bool:
        """Enqueue without waiting; on overflow mark the queue slow, close it and return False."""
        if self.closed:
            return False
        size = 0 if catch_up else frame_size(frame)
        if self.pending_bytes + size > self.max_bytes:
            self.slow = True
            self.close(discard=True)
            return False
        self._frames.append(frame)
        self._sizes.append(size)
        self.pending_bytes += size
        self._wake()
        return True

    def pop(self, *, within: int | None = None) -> Frame | None:
        """The oldest frame, or None if the queue is empty (or it is over `within` bytes)."""
        head = self._head
        if head == len(self._frames):
            return None
        frame = self._frames[head]
        if within is not None and frame_size(frame) > within:
            return None
        self.pending_bytes -= self._sizes[head]
        if head + 1 == len(self._frames):
            self._frames.clear()
            self._sizes.clear()
            self._head = 0
        else:
            self._frames[head] = b""  # drop the reference now; the slot goes at the next clear
            self._head = head + 1
        return frame

    async def wait(self) -> None:
        """Wait until a frame is offered, the queue is closed, or `nudge` is called."""
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def get(self) -> Frame | None:
        """Wait for the oldest frame; None once the queue is closed and drained."""
        while not len(self):
            if self.closed:
                return None
            await self.wait()
        return self.pop()

    def close(self, *, discard: bool = False) -> None:
        """Refuse new frames; pending ones are still delivered unless `discard`."""
        self.closed = True
        if discard:
            self._frames.clear()
            self._sizes.clear()
            self._head = 0
            self.pending_bytes = 0
        self._wake()

    def nudge(self) -> None:
        """Wake the consumer without a frame (it re-checks why it waits)."""
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class ConnectionWriter:
    """Owns a connection's `OutboundQueue` and the one task at a time that sends from it, in order.

    Two ways to run it. `start()` runs a writer task for the connection's whole life (it ends
    after `close()`, or raises `SlowConsumerError`). With `on_error` given instead, the writer
    runs on demand: offering a frame starts a task if none runs, and the task ends once it
    has sent nothing for `IDLE_SECONDS` (checked by one timer per busy writer, not per
    frame); a failed send is handed to `on_error`. `drain()` ends either way.
    """

    __slots__ = (
        "_active",
        "_interrupted",
        "_join",
        "_on_error",
        "_retire",
        "_send",
        "_sending",
        "_task",
        "_timer",
        "queue",
    )

    def __init__(
        self,
        send: Send,
        *,
        max_queue_bytes: int = DEFAULT_MAX_QUEUE_BYTES,
        join: Join | None = None,
        on_error: OnError | None = None,
    ) -> None:
        self.queue = OutboundQueue(max_bytes=max_queue_bytes)
        self._send = send
        self._join = join
        self._on_error = on_error
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._sending = False
        self._interrupted = False
        self._active = False
        self._retire = False

    @property
    def slow(self) -> bool:
        """True once the queue overflowed; the session should close with `SlowConsumerError`."""
        return self.queue.slow

    @property
    def running(self) -> bool:
        """Whether a writer task exists right now (an idle on-demand writer has none)."""
        return self._task is not None

    def offer(self, frame: Frame, *, catch_up: bool = False) -> bool:
        """Queue a frame without waiting; False if closed or the client is too slow.

        `catch_up` frames (snapshot, recovered backlog) do not count against the bound.
        """
        if self.queue.offer(frame, catch_up=catch_up):
            if self._task is None and self._on_error is not None:
                self._task = asyncio.get_running_loop().create_task(self._run_on_demand())
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

    async def drain(self, seconds: float) -> None:
        """After `close()`: wait up to `seconds` for queued frames to go out, then stop."""
        task = self._task
        if task is None:
            return
        await asyncio.wait({task}, timeout=seconds)
        if not task.done():
            task.cancel()
            await asyncio.wait({task})

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
            await self._write(frame)

    async def _write(self, frame: Frame) -> None:
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

    async def _run_on_demand(self) -> None:
        assert self._on_error is not None
        queue = self.queue
        self._retire = False
        self._timer = asyncio.get_running_loop().call_later(IDLE_SECONDS, self._check_idle)
        try:
            while True:
                frame = queue.pop()
                if frame is None:
                    if queue.closed or self._retire:
                        return
                    await queue.wait()
                    continue
                self._active = True
                await self._write(frame)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not self._interrupted or task is None or task.uncancel():
                raise
        except Exception as exc:
            queue.close(discard=True)
            self._on_error(exc)
        finally:
            self._task = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _check_idle(self) -> None:
        if self._active:
            self._active = False
            self._timer = asyncio.get_running_loop().call_later(IDLE_SECONDS, self._check_idle)
            return
        self._timer = None
        self._retire = True
        self.queue.nudge()
