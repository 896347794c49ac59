"""Domain events: declared once with their payload schema, emitted into the outbox inside
the transaction of the change they describe, handed to consumers by the dispatcher.

A domain declares ``EventType("recording.stopped", RecordingStopped, aggregate="room",
summary=...)`` as a module constant and calls ``emit(session, RECORDING_STOPPED, payload,
aggregate_id=room_id)`` before it commits its change. The node lists every event type in
one ``Catalogue`` (docs/events.md is generated from it) and subscribes ``Consumer``s.

Consumers are called at least once per event, in order per aggregate, with the session
of a transaction that also records the event as consumed by them: an effect made in that
session happens exactly once. A consumer whose effect is outside the database (an e-mail,
a webhook, a push to the realtime user channel) enqueues its own job from there, keyed by
the event id, so the outside call is retried on its own and never inside a transaction; a
consumer that does nothing else is a ``job_consumer``, whose job the dispatcher enqueues.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.errors import UnknownJobType
from jobs.queue import EVENTS_CHANNEL, enqueue, notify_on_commit
from jobs.types import JobType
from persistence.models import DomainEvent
from persistence.models.base import new_id, utcnow


@dataclass(frozen=True)
class EventType:
    """One kind of domain event: its dotted ``name``, the pydantic model of its payload,
    the kind of aggregate it is about (events of one aggregate are delivered in order) and
    a sentence for the catalogue."""

    name: str
    payload: type[BaseModel]
    aggregate: str
    summary: str


@dataclass(frozen=True)
class Event:
    """An event as a consumer receives it."""

    id: uuid.UUID
    type: str
    aggregate_type: str
    aggregate_id: str
    occurred_at: datetime
    payload: BaseModel


Handle = Callable[[AsyncSession, Event], Awaitable[None]]
Wants = Callable[[AsyncSession], Awaitable[Callable[[str], bool]]]
JobArgs = Callable[[str, uuid.UUID, dict[str, Any]], dict[str, Any]]
"""The arguments of a job consumer's job: from the event's type, id and JSON payload."""


@dataclass(frozen=True)
class Consumer:
    """Something that reacts to events: ``handle(session, event)`` for each event of
    ``types``; its delivery is a job (``max_attempts``, ``timeout`` per attempt).
    ``wants(session)``, if given, is asked once per dispatched batch (in the dispatcher's
    transaction) which event types the consumer has any use for now; an event it has none
    for gets no delivery job (the webhooks' fan-out when no endpoint subscribes to it).
    ``job`` and ``job_args`` are set by ``job_consumer``: the dispatcher enqueues that job
    itself instead of a delivery job that would enqueue it."""

    name: str
    types: tuple[str, ...]
    handle: Handle
    max_attempts: int = 10
    timeout: float = 60.0
    wants: Wants | None = None
    job: JobType | None = None
    job_args: JobArgs | None = None


def ordering_key(consumer: str, aggregate_type: str, aggregate_id: str) -> str:
    """The ordering key of one aggregate's deliveries to one consumer: they run one at a
    time, in outbox order."""
    return f"{consumer}:{aggregate_type}:{aggregate_id}"[:200]


def job_consumer(
    name: str, types: tuple[str, ...], job: JobType, args: JobArgs, *, wants: Wants | None = None
) -> Consumer:
    """A consumer whose whole effect is outside the database (an e-mail): the dispatcher
    enqueues ``job`` with ``args(type, event_id, payload)`` for each event, in the
    transaction that marks the event dispatched, so each event gets exactly one such job,
    which retries the outside call on its own (its ``max_attempts`` and backoff); one
    aggregate's jobs run in outbox order. No ``events.deliver`` job in between: that hop
    cost a claim, a run and a completion per event. A delivery job made for this consumer
    before it became one enqueues the same job (``handle``)."""

    async def handle(session: AsyncSession, event: Event) -> None:
        payload = event.payload.model_dump(mode="json")
        await enqueue(
            session,
            job,
            args(event.type, event.id, payload),
            ordering_key=ordering_key(name, event.aggregate_type, event.aggregate_id),
        )

    return Consumer(name, types, handle, wants=wants, job=job, job_args=args)


class Catalogue:
    """Every event type of the application and the consumers subscribed to them."""

    def __init__(self, types: Iterable[EventType] = (), consumers: Iterable[Consumer] = ()):
        self._types: dict[str, EventType] = {}
        self._consumers: dict[str, Consumer] = {}
        for event_type in types:
            self.declare(event_type)
        for consumer in consumers:
            self.subscribe(consumer)

    def declare(self, event_type: EventType) -> None:
        """Add ``event_type``; each name is declared once."""
        if self._types.get(event_type.name, event_type) != event_type:
            raise ValueError(f"two event types are named {event_type.name!r}")
        self._types[event_type.name] = event_type

    def subscribe(self, consumer: Consumer) -> None:
        """Deliver the events ``consumer`` names to it (they must be declared)."""
        unknown = [name for name in consumer.types if name not in self._types]
        if unknown:
            raise UnknownJobType(f"consumer {consumer.name!r} names unknown events {unknown}")
        if consumer.name in self._consumers:
            raise ValueError(f"two consumers are named {consumer.name!r}")
        self._consumers[consumer.name] = consumer

    @property
    def types(self) -> list[EventType]:
        """The declared event types, by name."""
        return [self._types[name] for name in sorted(self._types)]

    def type(self, name: str) -> EventType:
        """The event type named ``name`` (UnknownJobType if none)."""
        try:
            return self._types[name]
        except KeyError:
            raise UnknownJobType(f"no event type is named {name!r}") from None

    def consumer(self, name: str) -> Consumer:
        """The consumer named ``name`` (UnknownJobType if none)."""
        try:
            return self._consumers[name]
        except KeyError:
            raise UnknownJobType(f"no consumer is named {name!r}") from None

    def consumers_of(self, event_type: str) -> list[Consumer]:
        """The consumers of ``event_type``, by name."""
        return [c for _, c in sorted(self._consumers.items()) if event_type in c.types]

    def decode(self, row: DomainEvent) -> Event:
        """The event stored in ``row``, its payload validated by its model."""
        return self.event(
            row.event_id,
            row.type,
            row.aggregate_type,
            row.aggregate_id,
            row.occurred_at,
            row.payload,
        )

    def event(
        self,
        event_id: uuid.UUID,
        type_: str,
        aggregate_type: str,
        aggregate_id: str,
        occurred_at: datetime,
        payload: dict[str, Any],
    ) -> Event:
        """The event stored with these columns, its payload validated by its model."""
        model = self.type(type_).payload.model_validate(payload)
        return Event(event_id, type_, aggregate_type, aggregate_id, occurred_at, model)

    def markdown(self) -> str:
        """The catalogue as docs/events.md shows it: each type, its aggregate and the JSON
        schema of its payload."""
        lines = [
            "# Domain events",
            "",
            "<!-- Generated from the node's event catalogue (parts.EVENT_TYPES) by",
            "     `liveclass events-doc > docs/events.md`; a test checks it is current. -->",
            "",
            "Every event a domain emits, declared once with its payload schema. Events are",
            "written to the outbox (`domain_events`) in the transaction of the change they",
            "describe and handed to each subscribed consumer at least once, in order per",
            "aggregate; consumers are idempotent by event `id` (see docs/operations.md,",
            '"Background jobs and domain events"). Every event carries `id` (UUID), `type`,',
            "`aggregate_type`, `aggregate_id`, `occurred_at` (UTC) and the `payload` below.",
            "",
            "| Event | Aggregate | What happened |",
            "| --- | --- | --- |",
        ]
        lines += [f"| `{t.name}` | {t.aggregate} | {t.summary} |" for t in self.types]
        for event_type in self.types:
            schema = event_type.payload.model_json_schema()
            lines += ["", f"## `{event_type.name}`", "", event_type.summary, ""]
            lines += ["| Field | Type | Required | Description |", "| --- | --- | --- | --- |"]
            required = set(schema.get("required", []))
            for field, spec in schema.get("properties", {}).items():
                lines.append(
                    f"| `{field}` | {_type_of(spec)} | {'yes' if field in required else 'no'} "
                    f"| {spec.get('description', '')} |"
                )
        return "\n".join(lines) + "\n"


def _type_of(spec: dict[str, Any]) -> str:
    if "anyOf" in spec:
        return " or ".join(_type_of(s) for s in spec["anyOf"])
    kind = str(spec.get("type", "object"))
    return f"{kind} ({spec['format']})" if "format" in spec else kind


async def emit(
    session: AsyncSession,
    event_type: EventType,
    payload: BaseModel,
    *,
    aggregate_id: object,
    occurred_at: datetime | None = None,
) -> DomainEvent:
    """Add an event to ``session``: it exists if and only if the session commits.

    Emit after changing (and so locking) the aggregate: events of one aggregate are
    delivered in the order of their outbox sequence.
    """
    if not isinstance(payload, event_type.payload):
        raise TypeError(f"{event_type.name} takes a {event_type.payload.__name__} payload")
    row = DomainEvent(
        event_id=new_id(),
        type=event_type.name,
        aggregate_type=event_type.aggregate,
        aggregate_id=str(aggregate_id),
        payload=payload.model_dump(mode="json"),
        occurred_at=occurred_at or utcnow(),
    )
    session.add(row)
    await notify_on_commit(session, EVENTS_CHANNEL)
    return row
