"""Declaring job types and periodic jobs, and what a handler is given when it runs.

A domain declares its job types as module constants (``JobType(...)``) and enqueues them
with ``jobs.queue.enqueue``; the node adds them to its ``JobRegistry`` at start-up. Nothing
registers itself on import, so two apps in one process never share a registry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.errors import JobCancelled, UnknownJobType
from jobs.retry import Backoff
from jobs.schedule import Schedule, parse
from persistence.models import Job

Handler = Callable[["JobContext"], Awaitable[None]]


@dataclass(frozen=True)
class JobType:
    """A kind of job: its unique ``name``, the coroutine that runs it and its limits.

    ``timeout`` bounds one attempt (seconds); after ``max_attempts`` failed attempts the job
    is dead-lettered; between attempts it waits ``backoff``.
    """

    name: str
    handler: Handler
    max_attempts: int = 5
    timeout: float = 300.0
    backoff: Backoff = field(default_factory=Backoff)
    summary: str = ""


@dataclass(frozen=True)
class Periodic:
    """Enqueue ``job`` with ``args`` once per period of ``schedule`` (cron line or
    ``@every 30s``), however many workers run: one run per period across them all."""

    job: JobType
    schedule: str
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def rule(self) -> Schedule:
        """The parsed schedule (InvalidSchedule if it does not parse)."""
        return parse(self.schedule)

    @property
    def key(self) -> str:
        """The name of this periodic job's schedule row."""
        return self.job.name


class JobRegistry:
    """The job types and periodic jobs a worker runs."""

    def __init__(self, types: Iterable[JobType] = (), periodic: Iterable[Periodic] = ()) -> None:
        self._types: dict[str, JobType] = {}
        self._periodic: dict[str, Periodic] = {}
        for job_type in types:
            self.add(job_type)
        for item in periodic:
            self.add_periodic(item)

    def add(self, job_type: JobType) -> None:
        """Declare ``job_type``; a second, different type with the same name is an error."""
        known = self._types.get(job_type.name)
        if known is not None and known != job_type:
            raise ValueError(f"two job types are named {job_type.name!r}")
        self._types[job_type.name] = job_type

    def add_periodic(self, periodic: Periodic) -> None:
        """Run ``periodic`` on its schedule (its job type is added too)."""
        periodic.rule  # noqa: B018 - refuse a bad schedule at start-up, not at the first tick
        self.add(periodic.job)
        self._periodic[periodic.key] = periodic

    def get(self, name: str) -> JobType:
        """The job type named ``name`` (UnknownJobType if none)."""
        try:
            return self._types[name]
        except KeyError:
            raise UnknownJobType(f"no job type is named {name!r}") from None

    @property
    def names(self) -> list[str]:
        """Every declared job type's name (a worker claims only these)."""
        return sorted(self._types)

    @property
    def periodic(self) -> list[Periodic]:
        """The periodic jobs."""
        return list(self._periodic.values())


class JobContext:
    """What a running handler gets: the job's arguments, database sessions, and the means
    to report progress and notice a cancellation request."""

    def __init__(
        self,
        *,
        job_id: int,
        name: str,
        args: dict[str, Any],
        attempt: int,
        sessions: async_sessionmaker[AsyncSession],
        worker: str,
    ) -> None:
        self.job_id = job_id
        self.name = name
        self.args = args
        self.attempt = attempt
        self.sessions = sessions
        self._worker = worker
        self._cancelled = asyncio.Event()

    @property
    def cancelled(self) -> bool:
        """Whether an admin asked this job to stop (seen at the worker's next heartbeat)."""
        return self._cancelled.is_set()

    def raise_if_cancelled(self) -> None:
        """Stop here (JobCancelled: the job ends ``cancelled``) if asked to."""
        if self._cancelled.is_set():
            raise JobCancelled("cancelled on request")

    async def wait_cancelled(self, seconds: float | None = None) -> bool:
        """Wait up to ``seconds`` for a cancellation request; say whether it came."""
        try:
            async with asyncio.timeout(seconds):
                await self._cancelled.wait()
        except TimeoutError:
            return False
        return True

    def request_cancel(self) -> None:
        """The worker saw a cancellation request for this job."""
        self._cancelled.set()

    async def progress(self, **values: Any) -> None:
        """Record how far the job got (JSON values: ``done``, ``total``, a ``note``...); an
        admin sees it when inspecting the job."""
        async with self.sessions() as session:
            await session.execute(
                update(Job)
                .where(Job.id == self.job_id, Job.worker == self._worker, Job.state == "running")
                .values(progress=values)
            )
            await session.commit()
