"""The outbox dispatcher: turns committed domain events into one delivery job per
subscribed consumer, in outbox order, and runs those deliveries idempotently.

Dispatching a batch is one transaction: take undispatched events by ``seq`` (marked
dispatched in the same statement), add in one INSERT an ``events.deliver`` job per consumer
that wants the event (``Consumer.wants``; ordering key = consumer + aggregate, so one
consumer sees one aggregate's events one at a time, in order), or the consumer's own job for
a job consumer (``events.job_consumer``). A crash before that commit leaves the events
undispatched and the next dispatcher does it again; after it, the jobs carry on (retries,
leases, dead letters).
On PostgreSQL one dispatcher at a time holds a transaction advisory lock; others skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.events import Catalogue, ordering_key
from jobs.queue import enqueue_values, job_values
from jobs.retry import Backoff
from jobs.types import JobContext, JobType
from persistence.models import ConsumedEvent, DomainEvent
from persistence.models.base import utcnow

logger = logging.getLogger("liveclass.jobs")

DELIVER = "events.deliver"
DISPATCH_LOCK = 0x6C6A6F62  # any constant: one dispatcher at a time on PostgreSQL
BATCH = 200
BUSY = -1
"""``dispatch``'s answer when another dispatcher holds the lock. Its batch may have been
taken before our events were committed, and an event wakes only its own process's
dispatcher (``jobs.queue.LOCAL_IS_ENOUGH``): the dispatcher that was turned away tries again
shortly, not at its next poll."""
BUSY_RETRY = Backoff(base=0.05, cap=1.0)


def delivery_job(catalogue: Catalogue) -> JobType:
    """The job type that hands one event to one consumer, exactly once per effect."""

    async def deliver(ctx: JobContext) -> None:
        consumer = catalogue.consumer(str(ctx.args["consumer"]))
        async with ctx.sessions() as session:
            row = (await session.execute(READ, {"seq": int(ctx.args["seq"])})).first()
            if row is None:  # purged after the retention period: nothing left to deliver
                return
            event = catalogue.event(*row)
            if not await _mark_consumed(session, consumer.name, event.id):
                return  # an earlier delivery committed its effect already
            await consumer.handle(session, event)
            await session.commit()

    return JobType(DELIVER, deliver, max_attempts=10, timeout=60.0, summary="deliver an event")


async def _mark_consumed(session: AsyncSession, consumer: str, event_id: uuid.UUID) -> bool:
    result = await session.execute(
        CONSUME[session.get_bind().dialect.name],
        {"consumer": consumer, "event_id": event_id, "consumed_at": utcnow()},
    )
    return bool(getattr(result, "rowcount", 0))


EVENTS = cast(Table, DomainEvent.__table__)
CONSUMED = cast(Table, ConsumedEvent.__table__)
READ = select(
    EVENTS.c.event_id,
    EVENTS.c.type,
    EVENTS.c.aggregate_type,
    EVENTS.c.aggregate_id,
    EVENTS.c.occurred_at,
    EVENTS.c.payload,
).where(EVENTS.c.seq == bindparam("seq"))
"""A delivery's event, in ``Catalogue.event``'s order: a Core statement built once (was an
ORM ``Session.get`` of the row: identity map and instance state for a row read once)."""
CONSUME = {
    dialect: insert(CONSUMED)
    .values(
        consumer=bindparam("consumer"),
        event_id=bindparam("event_id"),
        consumed_at=bindparam("consumed_at"),
    )
    .on_conflict_do_nothing()
    for dialect, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
"""Record an event consumed (nothing if it is already), built once per dialect."""
UNDISPATCHED = (
    select(EVENTS.c.seq)
    .where(EVENTS.c.dispatched_at.is_(None))
    .order_by(EVENTS.c.seq)
    .limit(BATCH)
    .scalar_subquery()
)
TAKE = (
    update(EVENTS)
    .where(EVENTS.c.seq.in_(UNDISPATCHED))
    .values(dispatched_at=bindparam("now"))
    .returning(
        EVENTS.c.seq,
        EVENTS.c.event_id,
        EVENTS.c.type,
        EVENTS.c.aggregate_type,
        EVENTS.c.aggregate_id,
        EVENTS.c.payload,
    )
)
"""The oldest undispatched events, marked dispatched and returned in one statement (built
once): was a SELECT, then an UPDATE naming each event (a new statement to prepare for each
batch size)."""


async def dispatch(sessions: async_sessionmaker[AsyncSession], catalogue: Catalogue) -> int:
    """Dispatch one batch of undispatched events; return how many (0: none), or ``BUSY``
    when another dispatcher is at it."""
    async with sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            locked = await session.scalar(select(func.pg_try_advisory_xact_lock(DISPATCH_LOCK)))
            if not locked:
                return BUSY
        now = utcnow()
        rows = sorted((await session.execute(TAKE, {"now": now})).all(), key=lambda r: r.seq)
        if not rows:
            return 0
        job = delivery_job(catalogue)
        wanted: dict[str, Callable[[str], bool]] = {}
        jobs: list[dict[str, Any]] = []
        for row in rows:
            for consumer in catalogue.consumers_of(row.type):
                if consumer.wants is not None:
                    if consumer.name not in wanted:
                        wanted[consumer.name] = await consumer.wants(session)
                    if not wanted[consumer.name](row.type):
                        continue  # nothing for it to do with this event: no job
                key = ordering_key(consumer.name, row.aggregate_type, row.aggregate_id)
                if consumer.job is not None and consumer.job_args is not None:
                    args = consumer.job_args(row.type, row.event_id, row.payload)
                    jobs.append(job_values(consumer.job, args, now=now, ordering_key=key))
                    continue
                jobs.append(
                    job_values(
                        job,
                        {"seq": row.seq, "event_id": str(row.event_id), "consumer": consumer.name},
                        now=now,
                        ordering_key=key,
                        max_attempts=consumer.max_attempts,
                        timeout_seconds=consumer.timeout,
                    )
                )
        await enqueue_values(session, jobs)
        await session.commit()
    return len(rows)


class Dispatcher:
    """Dispatches events as they are committed (woken like workers), else every ``poll``."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        catalogue: Catalogue,
        *,
        poll: float = 5.0,
    ) -> None:
        self.sessions = sessions
        self.catalogue = catalogue
        self.poll = poll
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.turned_away = 0
        """How many times in a row another dispatcher's lock turned this one away."""

    def start(self) -> None:
        """Start dispatching (what was left undispatched first)."""
        self._task = asyncio.create_task(self._run(), name="events-dispatch")

    def wake(self) -> None:
        """Events were committed."""
        self._wake.set()

    async def _run(self) -> None:
        failures = 0
        while True:
            self._wake.clear()
            wait = self.poll
            try:
                while (done := await dispatch(self.sessions, self.catalogue)) == BATCH:
                    pass
                failures = 0
                self.turned_away = self.turned_away + 1 if done == BUSY else 0
                if self.turned_away:
                    wait = min(self.poll, BUSY_RETRY.delay(self.turned_away, random.random()))
            except Exception:
                failures += 1
                logger.exception("dispatching events failed")
                wait = Backoff(base=0.2, cap=self.poll).delay(failures, random.random())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    async def stop(self) -> None:
        """Stop dispatching (undispatched events wait for the next start)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None
