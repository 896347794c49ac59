"""A worker: claims due jobs, runs them with their timeout, renews their leases, reaps
lapsed ones, fires periodic jobs, and on stop finishes or gives back what it runs.

One asyncio task claims (woken by ``wake()`` on commit or NOTIFY, else by a slow poll or
the soonest scheduled job); one renews leases, picks up cancellation requests and reaps
other workers' lapsed leases; one fires periodic jobs. Up to ``concurrency`` handlers run
at once, each in its own task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs import store
from jobs.errors import JobCancelled, PermanentFailure, UnknownJobType
from jobs.metrics import JobMetrics
from jobs.retry import Backoff, DeadLetter, after_failure
from jobs.store import Claimed, Run
from jobs.types import JobContext, JobRegistry, Periodic
from persistence.models.base import utcnow
from persistence.transient import is_busy

logger = logging.getLogger("liveclass.jobs")


@dataclass(frozen=True)
class WorkerConfig:
    """How a worker runs (``Settings`` fields ``jobs_*``)."""

    concurrency: int = 8
    lease: float = 30.0
    poll: float = 5.0
    grace: float = 20.0
    node_id: str = "node"

    @property
    def heartbeat(self) -> float:
        """Leases are renewed four times per lease: a slow renewal or two is no loss."""
        return self.lease / 4


def worker_name(node_id: str) -> str:
    """A name unique to this worker: node, process and a random part."""
    return f"{node_id}:{os.getpid()}:{secrets.token_hex(3)}"


class _Running:
    def __init__(self, job: Claimed, context: JobContext) -> None:
        self.job = job
        self.context = context
        self.task: asyncio.Task[None] | None = None
        self.released = False

    @property
    def run(self) -> Run:
        return Run(self.job.id, self.job.attempt)


class Worker:
    """Runs the jobs of ``registry`` from the database behind ``sessions``."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        registry: JobRegistry,
        config: WorkerConfig,
        metrics: JobMetrics | None = None,
        *,
        read_sessions: async_sessionmaker[AsyncSession] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        # Reads that need no lock (on SQLite a writer session takes the database lock).
        self.read_sessions = read_sessions or sessions
        self.registry = registry
        self.config = config
        self.metrics = metrics or JobMetrics()
        self.name = worker_name(config.node_id)
        self._clock = clock
        self._wake = asyncio.Event()
        self._running: dict[int, _Running] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._names = registry.names
        self._done: list[Run] = []  # succeeded runs, forgotten with the next claim

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start claiming, renewing and firing."""
        self._stopping = False
        self._tasks = [
            asyncio.create_task(self._claim_loop(), name="jobs-claim"),
            asyncio.create_task(self._lease_loop(), name="jobs-lease"),
        ]
        if self.registry.periodic:
            self._tasks.append(asyncio.create_task(self._periodic_loop(), name="jobs-periodic"))

    def wake(self) -> None:
        """Something was enqueued (or a slot freed): claim now."""
        self._wake.set()

    @property
    def running(self) -> int:
        """How many jobs run now."""
        return len(self._running)

    async def stop(self, grace: float | None = None) -> None:
        """Stop claiming; let running jobs finish for ``grace`` seconds, then cancel the
        rest and give them back to the queue (another worker retries them at once)."""
        self._stopping = True
        self._wake.set()
        for task in self._tasks:  # no more claims: what finishes now is forgotten below
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        self._tasks = []
        grace = self.config.grace if grace is None else grace
        running = [r.task for r in self._running.values() if r.task is not None]
        if running:
            await asyncio.wait(running, timeout=grace)
        left = list(self._running.values())
        for item in left:
            item.released = True
            if item.task is not None:
                item.task.cancel()
        for item in left:
            if item.task is not None:
                with contextlib.suppress(BaseException):
                    await item.task
        try:
            done, self._done = self._done, []
            await store.succeed(self.sessions, done, worker=self.name)
            if left:
                await store.release(
                    self.sessions, [r.run for r in left], worker=self.name, now=self._clock()
                )
        except Exception:  # the leases lapse and other workers run them again
            logger.exception("jobs not released", extra={"worker": self.name})

    # ------------------------------------------------------------------ claiming

    async def _claim_loop(self) -> None:
        failures = 0
        while not self._stopping:
            self._wake.clear()
            free = self.config.concurrency - len(self._running)
            claimed: list[Claimed] = []
            done, self._done = self._done, []
            try:
                if free > 0 or done:
                    claimed = await store.claim(
                        self.sessions,
                        names=self._names,
                        worker=self.name,
                        limit=max(free, 0),
                        lease=self.config.lease,
                        now=self._clock(),
                        done=done,
                    )
                    for job in claimed:
                        self._start_job(job)
                    if free > 0 and len(claimed) == free:
                        continue  # there may be more: claim again once a slot frees
                # Nothing (more) due: sleep until the soonest scheduled job, a wake-up or
                # the poll. Finishing a job wakes this loop, which then claims again.
                wait = await self._idle_wait() if free > 0 and not claimed else self.config.poll
                failures = 0
            except Exception as exc:
                self._done = done + self._done
                failures += 1
                if is_busy(exc):  # a loaded database: the claim is tried again below
                    logger.warning(
                        "claiming jobs: database busy (%s)", exc, extra={"worker": self.name}
                    )
                else:
                    logger.exception("claiming jobs failed", extra={"worker": self.name})
                wait = Backoff(base=0.2, cap=self.config.poll).delay(failures, random.random())
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    async def _idle_wait(self) -> float:
        """Seconds until the soonest scheduled job, at most the poll interval."""
        due = await store.next_due(self.read_sessions, names=self._names)
        if due is None:
            return self.config.poll
        return max(0.0, min(self.config.poll, (due - self._clock()).total_seconds()))

    def _start_job(self, job: Claimed) -> None:
        context = JobContext(
            job_id=job.id,
            name=job.name,
            args=job.args,
            attempt=job.attempt,
            sessions=self.sessions,
            worker=self.name,
        )
        item = _Running(job, context)
        self._running[job.id] = item
        item.task = asyncio.create_task(self._run(item), name=f"job:{job.name}:{job.id}")

    # ------------------------------------------------------------------ running

    async def _run(self, item: _Running) -> None:
        job = item.job
        started = time.perf_counter()
        self.metrics.started(job, self._clock())
        outcome = "failed"
        try:
            try:
                job_type = self.registry.get(job.name)
                async with asyncio.timeout(job.timeout):
                    await job_type.handler(item.context)
            except asyncio.CancelledError:
                if item.released:
                    outcome = "released"
                    return  # stop() gives it back
                raise
            except TimeoutError:
                outcome = await self._failed(item, f"timed out after {job.timeout:g} s")
            except JobCancelled as exc:
                outcome = "cancelled"
                await self._finish(item, "cancelled", f"cancelled: {exc.detail}")
            except (PermanentFailure, UnknownJobType) as exc:
                outcome = await self._failed(item, _describe(exc), permanent=True)
            except Exception as exc:
                outcome = await self._failed(item, _describe(exc))
            else:
                outcome = "succeeded"
                self._done.append(item.run)  # forgotten with the next claim
        except Exception:
            logger.exception("job outcome not stored", extra={"job_id": job.id})
        finally:
            self.metrics.finished(job.name, outcome, time.perf_counter() - started)
            self._running.pop(job.id, None)
            self._wake.set()

    async def _failed(self, item: _Running, error: str, *, permanent: bool = False) -> str:
        job = item.job
        backoff = self.registry.get(job.name).backoff if job.name in self._names else Backoff()
        now = self._clock()
        decision = after_failure(
            attempt=job.attempt,
            max_attempts=job.max_attempts,
            backoff=backoff,
            now=now,
            random=random.random(),
            permanent=permanent,
        )
        logger.warning(
            "job failed",
            extra={"job_id": job.id, "job": job.name, "attempt": job.attempt, "error": error},
        )
        if isinstance(decision, DeadLetter):
            await self._finish(item, "dead", error)
            return "dead"
        await store.finish(
            self.sessions,
            item.run,
            worker=self.name,
            state="queued",
            now=now,
            error=error,
            run_at=decision.at,
        )
        return "retried"

    async def _finish(self, item: _Running, state: str, error: str) -> None:
        await store.finish(
            self.sessions, item.run, worker=self.name, state=state, now=self._clock(), error=error
        )

    # ------------------------------------------------------------------ leases

    async def _lease_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat)
            try:
                await self._renew()
                await store.reap(self.sessions, now=self._clock())
            except Exception:
                logger.exception("renewing job leases failed", extra={"worker": self.name})

    async def _renew(self) -> None:
        items = list(self._running.values())
        if not items:
            return
        kept = await store.heartbeat(
            self.sessions,
            [i.run for i in items],
            worker=self.name,
            lease=self.config.lease,
            now=self._clock(),
        )
        for item in items:
            if item.job.id not in kept and item.job.id in self._running:
                # Taken back after our lease lapsed (a stall): another run has it now.
                logger.warning("job lease lost", extra={"job_id": item.job.id})
                item.released = True
                if item.task is not None:
                    item.task.cancel()
            elif kept.get(item.job.id):
                item.context.request_cancel()

    # ------------------------------------------------------------------ periodic jobs

    async def _periodic_loop(self) -> None:
        periodic = self.registry.periodic
        while True:
            try:
                await store.prepare_schedules(self.sessions, periodic)
                break
            except Exception:
                logger.exception("periodic schedules not prepared")
                await asyncio.sleep(self.config.poll)
        now = self._clock()
        upcoming: dict[str, tuple[Periodic, datetime]] = {
            p.key: (p, p.rule.next_after(now)) for p in periodic
        }
        while True:
            soonest = min(at for _p, at in upcoming.values())
            await asyncio.sleep(max(0.0, (soonest - self._clock()).total_seconds()))
            now = self._clock()
            for key, (item, at) in list(upcoming.items()):
                if at > now:
                    continue
                try:
                    if await store.fire(self.sessions, item, at):
                        self.wake()
                except Exception:
                    logger.exception("periodic job not enqueued", extra={"job": key})
                upcoming[key] = (item, item.rule.next_after(now))


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
