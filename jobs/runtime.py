"""Everything that runs jobs in one process, started and stopped as one part: the worker,
the outbox dispatcher, the PostgreSQL listener, the queue gauges and the housekeeping job.

``liveclass serve`` runs one inside the node (the embedded default); ``liveclass worker``
runs one on its own (PostgreSQL only). Stopping gives running jobs ``grace`` seconds to
finish, then hands the rest back to the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from jobs.dispatcher import Dispatcher, delivery_job
from jobs.events import Catalogue
from jobs.listener import Listener
from jobs.metrics import JobMetrics
from jobs.queue import EVENTS_CHANNEL, JOBS_CHANNEL, add_waker, remove_waker
from jobs.store import stats
from jobs.types import JobContext, JobRegistry, JobType, Periodic
from jobs.worker import Worker, WorkerConfig
from persistence.models import ConsumedEvent, DomainEvent, Job
from persistence.models.base import utcnow

logger = logging.getLogger("liveclass.jobs")
STATS_SECONDS = 5.0


def housekeeping(retention: timedelta) -> Periodic:
    """Hourly: forget dead and cancelled jobs, dispatched events and their consumed-event
    records older than ``retention``."""

    async def purge(ctx: JobContext) -> None:
        before = utcnow() - retention
        async with ctx.sessions() as session:
            await session.execute(
                delete(Job).where(Job.state.in_(("dead", "cancelled")), Job.finished_at < before)
            )
            await session.execute(delete(ConsumedEvent).where(ConsumedEvent.consumed_at < before))
            await session.execute(
                delete(DomainEvent).where(
                    DomainEvent.dispatched_at.is_not(None), DomainEvent.dispatched_at < before
                )
            )
            await session.commit()

    job = JobType("jobs.purge", purge, max_attempts=3, timeout=600.0, summary="purge old jobs")
    return Periodic(job, "17 * * * *")


class JobRuntime:
    """The jobs machinery of one process over ``engine``."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        registry: JobRegistry,
        catalogue: Catalogue,
        config: WorkerConfig,
        metrics: JobMetrics | None = None,
        retention: timedelta = timedelta(days=14),
        read_sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.registry = registry
        self.catalogue = catalogue
        registry.add(delivery_job(catalogue))
        registry.add_periodic(housekeeping(retention))
        self.metrics = metrics or JobMetrics()
        self.read_sessions = read_sessions or sessions
        self.worker = Worker(
            sessions, registry, config, self.metrics, read_sessions=self.read_sessions
        )
        self.dispatcher = Dispatcher(sessions, catalogue, poll=config.poll)
        postgres = engine.dialect.name == "postgresql"
        url = engine.url.render_as_string(hide_password=False)
        self.listener = (
            Listener(url, {JOBS_CHANNEL: self.worker.wake, EVENTS_CHANNEL: self.dispatcher.wake})
            if postgres
            else None
        )
        self._stats: asyncio.Task[None] | None = None
        self._working = False

    async def start(self, *, work: bool = True) -> None:
        """Listen, dispatch, work and sample the queue (with ``work`` false, only sample:
        a node whose jobs run in ``liveclass worker`` processes still shows the queue)."""
        self._stats = asyncio.create_task(self._sample(), name="jobs-stats")
        if not work:
            return
        self._working = True
        sync = self.engine.sync_engine
        add_waker(sync, JOBS_CHANNEL, self.worker.wake)
        add_waker(sync, EVENTS_CHANNEL, self.dispatcher.wake)
        if self.listener is not None:
            self.listener.start()
        self.dispatcher.start()
        self.worker.start()
        logger.info("jobs worker started", extra={"worker": self.worker.name})

    async def stop(self, grace: float | None = None) -> None:
        """Stop taking work; finish or give back running jobs; stop listening."""
        if self._stats is not None:
            self._stats.cancel()
            with contextlib.suppress(BaseException):
                await self._stats
            self._stats = None
        if not self._working:
            return
        self._working = False
        sync = self.engine.sync_engine
        remove_waker(sync, JOBS_CHANNEL, self.worker.wake)
        remove_waker(sync, EVENTS_CHANNEL, self.dispatcher.wake)
        await self.dispatcher.stop()
        await self.worker.stop(grace)
        if self.listener is not None:
            await self.listener.stop()
        logger.info("jobs worker stopped", extra={"worker": self.worker.name})

    async def _sample(self) -> None:
        while True:
            try:
                now = utcnow()
                figures = await stats(self.read_sessions, now=now)
                async with self.read_sessions() as session:
                    pending = await session.scalar(
                        select(func.count()).where(DomainEvent.dispatched_at.is_(None))
                    )
                figures["outbox_pending"] = float(pending or 0)
                figures["running_here"] = float(self.worker.running)
                self.metrics.queue = figures
            except Exception:
                logger.warning("job queue figures not sampled", exc_info=True)
            await asyncio.sleep(STATS_SECONDS)
