"""Group commit of autosaves: the answers of many students' saves written in one writer
transaction, each save confirmed only once that transaction has committed.

A timed quiz has every student saving every few seconds. One transaction per save makes
the writers queue for the database's write lock (SQLite: one writer at a time, waiting in
a sleeping busy handler) and pay a commit each. Here a save that arrives while a batch is
being written waits for the next batch; one task per node writes batch after batch, so a
burst of saves costs a few commits, and nothing is confirmed before it is durable.

A batch is a few statements however many saves it holds (``attempts.write_batch``): the
attempts still open are claimed, and each answer is written only if its save is newer than
the one stored; a save whose attempt closed gets ``None``. If the transaction fails, every
save of the batch gets the error (none was confirmed; the browser sends them again).
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lms.assessments import attempts, hotpath
from lms.assessments.load import QuizBusy, retry_after
from ops.metrics import Metrics

MAX_BATCH = 200
"""Saves written in one transaction at most."""


@dataclass
class _Save:
    write: attempts.AnswerWrite
    done: asyncio.Future[attempts.Written] = field(repr=False)
    caller: hotpath.Caller | None = None  # a fast-path save: the batch confirms its caller


class AnswerWriter:
    """The group-commit writer of one node's autosaves (see the module doc)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        registry: CollectorRegistry,
        max_pending: int = 2000,
        turn: Callable[[], AbstractAsyncContextManager[None]] = nullcontext,
    ) -> None:
        self._sessions = sessions
        self._turn = turn  # SQLite: wait for the node's one quiz writer slot (``load``)
        self._max_pending = max_pending
        self._pending: list[_Save] = []
        self._task: asyncio.Task[None] | None = None
        self.batches = Counter(
            "liveclass_quiz_autosave_batches",
            "Transactions that wrote quiz autosaves (each holds one or more saves).",
            registry=registry,
        )
        self.saves = Counter(
            "liveclass_quiz_autosave_saves",
            "Quiz autosaves written (the batches' sizes add up to this).",
            registry=registry,
        )
        self.refused = Counter(
            "liveclass_quiz_autosave_refused",
            "Quiz autosaves refused with 503 because the node's line of saves was full.",
            registry=registry,
        )

    async def write(
        self,
        attempt_id: uuid.UUID,
        seq: int,
        answers: Mapping[uuid.UUID, dict[str, Any]],
        now: datetime,
        caller: hotpath.Caller | None = None,
    ) -> attempts.Written:
        """Write checked answers (``attempts.canonical``) with the next batch; returns once
        it has committed. ``QuizBusy`` (503) at once when ``max_pending`` saves are waiting
        already: the line is bounded, the browser sends the save again later. A ``caller``
        (the fast path's) is confirmed by the database in the batch, else ``hotpath.Recheck``
        is raised and nothing of the save was written."""
        if len(self._pending) >= self._max_pending:
            self.refused.inc()
            raise QuizBusy(
                "Too many answers are waiting to be saved on this server; try again shortly.",
                retry_after=retry_after(len(self._pending) // 10),
            )
        done: asyncio.Future[attempts.Written] = asyncio.get_running_loop().create_future()
        self._pending.append(
            _Save(attempts.AnswerWrite(attempt_id, seq, answers, now), done, caller)
        )
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="assessments.autosave")
        return await asyncio.shield(done)

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                results = await self._commit(batch)
            except Exception as exc:  # every save of the batch learns it failed
                for save in batch:
                    if not save.done.done():
                        save.done.set_exception(exc)
                continue
            self.batches.inc()
            self.saves.inc(len(batch))
            for save, result in zip(batch, results, strict=True):
                if save.done.done():
                    continue
                if isinstance(result, hotpath.Recheck):
                    save.done.set_exception(result)
                else:
                    save.done.set_result(result)

    async def _commit(self, batch: list[_Save]) -> list[attempts.Written | hotpath.Recheck]:
        async with self._turn(), self._sessions() as writer:
            allowed = await hotpath.allowed(writer, [save.caller for save in batch])
            kept = [save.write for save, ok in zip(batch, allowed, strict=True) if ok]
            written = iter(await attempts.write_batch(writer, kept))
            await writer.commit()
        return [next(written) if ok else hotpath.Recheck() for ok in allowed]


_writers: weakref.WeakKeyDictionary[async_sessionmaker[AsyncSession], AnswerWriter] = (
    weakref.WeakKeyDictionary()
)


def writer_for(
    sessions: async_sessionmaker[AsyncSession],
    metrics: Metrics,
    max_pending: int = 2000,
    turn: Callable[[], AbstractAsyncContextManager[None]] = nullcontext,
) -> AnswerWriter:
    """The node's answer writer (one per writer session factory, made on first use, its
    counters in the node's registry; at most ``max_pending`` saves waiting; each batch
    written in a ``turn``, ``load.QuizLoad.turn``)."""
    found = _writers.get(sessions)
    if found is None:
        found = _writers[sessions] = AnswerWriter(sessions, metrics.registry, max_pending, turn)
    return found
