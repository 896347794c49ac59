"""Durable jobs and domain events: the jobs table, the outbox and what consumers consumed.

Written by ``jobs/`` only; domains reach them through ``jobs.queue.enqueue`` and
``jobs.events.emit``, which add rows to the caller's session so that a change, its jobs and
its events commit (or roll back) together.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from persistence.models.base import Base, new_id, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Job(Base):
    """One unit of background work, from enqueue to success (the row is deleted), death
    (``dead``, kept for an admin) or cancellation (``cancelled``, kept likewise).

    ``queued`` jobs run at ``run_at`` (a scheduled job, or a retry after its backoff);
    ``running`` ones are held by ``worker`` until ``lease_until``, which the worker keeps
    pushing forward while it runs them; a lease that lapses (a killed worker) puts the job
    back in the queue. Jobs sharing an ``ordering_key`` run one at a time, in id order.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index(None, "state", "run_at"),
        Index(None, "ordering_key", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    args: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    timeout_seconds: Mapped[float] = mapped_column(Float, default=300.0)
    ordering_key: Mapped[str | None] = mapped_column(String(200), default=None)
    worker: Mapped[str | None] = mapped_column(String(100), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    progress: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class JobSchedule(Base):
    """The last period a periodic job was enqueued for: one run per period, whatever the
    number of workers (the one whose update moves ``last_fire`` forward enqueues it)."""

    __tablename__ = "job_schedules"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_fire: Mapped[datetime | None] = mapped_column(default=None)


class DomainEvent(Base):
    """The outbox and event log: one domain event, committed with the change it describes.

    ``seq`` orders events (the dispatcher hands them to consumers in that order);
    ``dispatched_at`` is set once every consumer has its delivery job.
    """

    __tablename__ = "domain_events"
    __table_args__ = (Index(None, "dispatched_at", "seq"), Index(None, "event_id", unique=True))

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(default=new_id)
    type: Mapped[str] = mapped_column(String(100))
    aggregate_type: Mapped[str] = mapped_column(String(50))
    aggregate_id: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column()
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)


class ConsumedEvent(Base):
    """A consumer handled an event: its record commits with the consumer's effect, so a
    delivery repeated after a crash finds it and does nothing twice."""

    __tablename__ = "consumed_events"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    consumed_at: Mapped[datetime] = mapped_column(default=utcnow)
