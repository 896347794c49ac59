"""Back-pressure for the quiz hot paths: overload is a quick 503, never a 500 after a wait.

An exam puts a thousand students on one quiz at once. Before, a start or a submission held
a writer session for the whole request and waited in SQLite's busy handler (5 s, then 500
``database is locked``) or for a pooled PostgreSQL connection (30 s, then 500); a thousand
waiters made every one of them slow. Now each node admits a bounded number of quiz database
jobs at a time (``Gate``: a few running, a bounded line waiting); a request that finds the
line full is answered at once with ``QuizBusy`` (503 with ``Retry-After``), and one that
waits longer than the line's patience gets the same. Nothing it sent was written, so the
browser tries again after the delay (the quiz page backs off).

One ``QuizLoad`` per node (per writer session factory, as the autosave writer): ``writes``
for the write phase of starts and submissions, ``reads`` for the read phase of starts,
submissions and autosaves that miss the node's attempt cache.

On SQLite the quiz writers of a node take turns (``QuizLoad.turn``): the writes line has one
slot, and the autosave's group commit and the closing of overdue attempts wait for it too.
SQLite has one write lock (a node's writers queue for its one writer connection,
``persistence.engine``); taking turns here keeps a quiz writer's wait bounded by the line's
patience (then 503) rather than by the busy timeout. PostgreSQL locks rows: its writers run
side by side, ``LIVECLASS_QUIZ_WRITE_SLOTS`` (6) at once; at 2, a submission's dozen awaited
statements on a busy event loop made 17 submissions a second queue to a 570 ms p99.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lms.assessments.errors import AssessmentError
from lms.errors import Unavailable
from settings import Settings


class QuizBusy(AssessmentError, Unavailable):
    """This node has as many quiz requests as it can take: a 503 with ``Retry-After``
    (``retry_after`` seconds); nothing of the request was written."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = max(1, retry_after)


class Gate:
    """At most ``slots`` holders at once and ``queue`` waiting; a caller beyond that, or one
    that waited ``patience`` seconds, gets ``QuizBusy``."""

    def __init__(self, name: str, slots: int, queue: int, patience: float) -> None:
        self.name = name
        self.queue = queue
        self.patience = patience
        self._slots = asyncio.Semaphore(slots)
        self._waiting = 0

    @property
    def waiting(self) -> int:
        """Callers waiting for a slot now."""
        return self._waiting

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the block (or raise ``QuizBusy`` without running it)."""
        if self._slots.locked():
            if self._waiting >= self.queue:
                raise QuizBusy(
                    "Too many quiz requests are waiting on this server; try again shortly.",
                    retry_after=retry_after(self._waiting),
                )
            self._waiting += 1
            try:
                async with asyncio.timeout(self.patience):
                    await self._slots.acquire()
            except TimeoutError:
                raise QuizBusy(
                    "This server is busy with other quiz requests; try again shortly.",
                    retry_after=retry_after(self._waiting),
                ) from None
            finally:
                self._waiting -= 1
        else:
            await self._slots.acquire()
        try:
            yield
        finally:
            self._slots.release()

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold one slot for the block, waiting as long as it takes: for the node's own
        writers (the autosave's batches, bounded by their own line), never refused."""
        async with self._slots:
            yield


def retry_after(waiting: int) -> int:
    """Seconds a refused client should wait: longer when more are waiting (1 to 10)."""
    return max(1, min(10, 1 + waiting // 100))


@dataclass(frozen=True)
class QuizLoad:
    """A node's gates for the quiz hot paths (see the module doc)."""

    reads: Gate
    writes: Gate
    serial_writes: bool = False  # SQLite: one quiz writer at a time (``turn``)

    def turn(self) -> AbstractAsyncContextManager[None]:
        """A quiz write outside the writes line (an autosave batch, closing an overdue
        attempt): on SQLite it waits for the line's one slot, on PostgreSQL it runs."""
        return self.writes.turn() if self.serial_writes else nullcontext()


_loads: weakref.WeakKeyDictionary[async_sessionmaker[AsyncSession], QuizLoad] = (
    weakref.WeakKeyDictionary()
)


def load_for(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> QuizLoad:
    """The node's gates (one set per writer session factory, made on first use)."""
    found = _loads.get(sessions)
    if found is None:
        patience = settings.quiz_wait_seconds
        bind = sessions.kw.get("bind")
        serial = bind is not None and bind.dialect.name == "sqlite"
        writers = 1 if serial else settings.quiz_write_slots
        found = _loads[sessions] = QuizLoad(
            reads=Gate("reads", settings.quiz_read_slots, settings.quiz_queue, patience),
            writes=Gate("writes", writers, settings.quiz_queue, patience),
            serial_writes=serial,
        )
    return found
