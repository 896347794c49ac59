"""Group commit: many small writes from concurrent tasks share one transaction.

Each caller submits an operation and awaits its result; a single writer task runs every
operation queued within ``max_delay`` in one transaction. Acknowledged means committed, and
a failing operation is retried alone so it cannot sink the others of its batch. A batch that
met a lock or serialisation conflict (``persistence.transient``) is run again, whole, up to
``conflict_retries`` times before that: under load a busy SQLite file is not a failed write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence import holders
from persistence.transient import is_transient

T = TypeVar("T")
Operation = Callable[[AsyncSession], Awaitable[T]]
logger = logging.getLogger("liveclass.persistence")


@dataclass(slots=True)
class _Pending(Generic[T]):
    operation: Operation[T]
    future: asyncio.Future[T]


class GroupCommitter:
    """Batches operations into shared transactions; ``submit`` returns once committed."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        max_delay: float = 0.002,
        max_batch: int = 256,
        max_queue: int = 10_000,
        conflict_retries: int = 3,
        retry_delay: float = 0.05,
    ) -> None:
        self._sessions = sessionmaker
        self._max_delay = max_delay
        self._max_batch = max_batch
        self._conflict_retries = conflict_retries
        self._retry_delay = retry_delay
        self._queue: asyncio.Queue[_Pending[Any]] = asyncio.Queue(max_queue)
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.operations = 0
        self.conflicts = 0

    def start(self) -> None:
        """Start the writer task (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="group-commit")

    async def submit(self, operation: Operation[T]) -> T:
        """Run ``operation`` in the next batch; return its result after the commit."""
        self.start()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(operation, future))
        return await future

    async def close(self) -> None:
        """Commit what is queued, then stop the writer."""
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            await asyncio.sleep(self._max_delay)
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, batch: list[_Pending[Any]]) -> None:
        live = [p for p in batch if not p.future.done()]
        try:
            results = await self._retrying(live)
        except Exception as exc:
            if len(live) == 1:
                _fail(live[0], exc)
                return
            for pending in live:  # find the culprit: each on its own
                await self._commit([pending])
            return
        self.batches += 1
        self.operations += len(live)
        for pending, result in zip(live, results, strict=True):
            if not pending.future.done():
                pending.future.set_result(result)

    async def _retrying(self, batch: list[_Pending[Any]]) -> list[Any]:
        """The batch's transaction, run again after a lock or serialisation conflict."""
        for attempt in range(self._conflict_retries):
            try:
                return await self._transaction(batch)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                self.conflicts += 1
                logger.info(
                    "write conflict (%s); running the batch again; %s",
                    exc.__class__.__name__,
                    "; ".join(holders.describe(longer_than=1.0)),
                )
                await asyncio.sleep(self._retry_delay * (attempt + 1))
        return await self._transaction(batch)

    async def _transaction(self, batch: list[_Pending[Any]]) -> list[Any]:
        async with self._sessions() as session:
            results = [await pending.operation(session) for pending in batch]
            await session.commit()
            return results


def _fail(pending: _Pending[Any], exc: Exception) -> None:
    logger.warning("write failed", exc_info=exc)
    if not pending.future.done():
        pending.future.set_exception(exc)
