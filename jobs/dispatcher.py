"""The outbox dispatcher: turns committed domain events into one delivery job per
subscribed consumer, in outbox order, and runs those deliveries idempotently.

Dispatching a batch is one transaction: read undispatched events by ``seq``, add a
``events.deliver`` job per consumer (ordering key = consumer + aggregate, so one
consumer sees one aggregate's events one at a time, in order), mark the events
dispatched. A crash before that commit leaves the events undispatched and the next
dispatcher does it again; after it, the jobs carry on (retries, leases, dead letters).
On PostgreSQL one dispatcher at a time holds a transaction advisory lock; others skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.events import Catalogue
from jobs.queue import enqueue
from jobs.retry import Backoff
from jobs.types import JobContext, JobType
from persistence.models import ConsumedEvent, DomainEvent
from persistence.models.base import utcnow

logger = logging.getLogger("liveclass.jobs")

DELIVER = "events.deliver"
DISPATCH_LOCK = 0x6C6A6F62  # any constant: one dispatcher at a time on PostgreSQL
BATCH = 200


def delivery_job(catalogue: Catalogue) -> JobType:
    """The job type that hands one event to one consumer, exactly once per effect."""

    async def deliver(ctx: JobContext) -> None:
        consumer = catalogue.consumer(str(ctx.args["consumer"]))
        async with ctx.sessions() as session:
            row = await session.get(DomainEvent, int(ctx.args["seq"]))
            if row is None:  # purged after the retention period: nothing left to deliver
                return
            event = catalogue.decode(row)
            if not await _mark_consumed(session, consumer.name, event.id):
                return  # an earlier delivery committed its effect already
            await consumer.handle(session, event)
            await session.commit()

    return JobType(DELIVER, deliver, max_attempts=10, timeout=60.0, summary="deliver an event")


async def _mark_consumed(session: AsyncSession, consumer: str, event_id: uuid.UUID) -> bool:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.execute(
        insert(ConsumedEvent)
        .values(consumer=consumer, event_id=event_id, consumed_at=utcnow())
        .on_conflict_do_nothing()
    )
    return bool(getattr(result, "rowcount", 0))


async def dispatch(sessions: async_sessionmaker[AsyncSession], catalogue: Catalogue) -> int:
    """Dispatch one batch of undispatched events; return how many (0: none, or another
    dispatcher is at it)."""
    async with sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            locked = await session.scalar(select(func.pg_try_advisory_xact_lock(DISPATCH_LOCK)))
            if not locked:
                return 0
        rows = list(
            (
                await session.execute(
                    select(DomainEvent)
                    .where(DomainEvent.dispatched_at.is_(None))
                    .order_by(DomainEvent.seq)
                    .limit(BATCH)
                )
            ).scalars()
        )
        if not rows:
            return 0
        job = delivery_job(catalogue)
        for row in rows:
            for consumer in catalogue.consumers_of(row.type):
                await enqueue(
                    session,
                    job,
                    {"seq": row.seq, "event_id": str(row.event_id), "consumer": consumer.name},
                    ordering_key=f"{consumer.name}:{row.aggregate_type}:{row.aggregate_id}"[:200],
                    max_attempts=consumer.max_attempts,
                    timeout_seconds=consumer.timeout,
                )
        await session.execute(
            update(DomainEvent)
            .where(DomainEvent.seq.in_([row.seq for row in rows]))
            .values(dispatched_at=utcnow())
            .execution_options(synchronize_session=False)
        )
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
                while await dispatch(self.sessions, self.catalogue) == BATCH:
                    pass
                failures = 0
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
