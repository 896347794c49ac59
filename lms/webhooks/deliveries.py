"""Webhook deliveries: fanning an event out into one delivery per subscribed endpoint,
test messages and redeliveries, recording each attempt, retrying on the schedule and
disabling an endpoint whose deliveries keep failing. Takes sessions, returns rows; no HTTP
(routes.py serves it, delivery.py makes the calls)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import Event
from jobs.queue import enqueue
from jobs.types import JobContext, JobType
from lms.webhooks.config import WebhookConfig
from lms.webhooks.delivery import Outcome
from lms.webhooks.endpoints import disable, signing_secrets
from lms.webhooks.errors import (
    DeliveryConflict,
    DeliveryNotFound,
)
from persistence.models import AuditEvent, WebhookDelivery, WebhookEndpoint
from persistence.models.base import as_utc, new_id, utcnow

TEST_EVENT = "webhook.test"
"""The type of the message ``send_test`` sends (not a domain event: never subscribed)."""
STATUSES = ("pending", "delivered", "failed")
LOG_LINES = 20
"""How many attempts a delivery's ``attempt_log`` keeps (the latest)."""


async def _unbound(_ctx: JobContext) -> None:  # pragma: no cover - replaced in jobs.register
    raise RuntimeError("the webhooks delivery job is not registered")


DELIVER = JobType(
    "webhooks.deliver",
    _unbound,
    max_attempts=3,  # the job's own retries cover a crash; the schedule is ours (below)
    timeout=300.0,  # one attempt is bounded by the delivery timeouts (at most 120 s each)
    summary="make one webhook delivery attempt",
)
"""The job making one attempt; ``lms.webhooks.jobs.register`` binds its handler."""


def body_of(event_type: str, occurred_at: datetime, data: dict[str, Any]) -> str:
    """The JSON a receiver gets: ``{"type", "timestamp", "data"}`` (Standard Webhooks)."""
    stamp = occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return orjson.dumps({"type": event_type, "timestamp": stamp, "data": data}).decode()


def _new_delivery(
    endpoint_id: int, event_id: uuid.UUID, event_type: str, body: str
) -> WebhookDelivery:
    now = utcnow()
    return WebhookDelivery(
        webhook_id=f"msg_{new_id().hex}",
        endpoint_id=endpoint_id,
        event_id=event_id,
        event_type=event_type,
        body=body,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        attempt_log=[],
        created_at=now,
    )


async def _schedule(
    session: AsyncSession, delivery: WebhookDelivery, *, retries: bool, at: datetime | None = None
) -> None:
    """Enqueue the next attempt of ``delivery`` (with the caller's transaction)."""
    await enqueue(
        session,
        DELIVER,
        {"delivery_id": delivery.id, "attempt": delivery.attempts + 1, "retries": retries},
        run_at=at,
    )


def subscribed(endpoint: WebhookEndpoint, event_type: str) -> bool:
    """Whether ``endpoint`` wants events of ``event_type``."""
    return endpoint.event_types is None or event_type in endpoint.event_types


async def subscriptions(session: AsyncSession) -> Callable[[str], bool]:
    """Which event types some enabled endpoint subscribes to now: the fan-out consumer's
    ``wants``, asked once per dispatched batch of events, so an event no endpoint wants
    costs no delivery job (most events, on a node with no endpoints at all)."""
    kinds = (
        await session.execute(
            select(WebhookEndpoint.event_types).where(WebhookEndpoint.enabled.is_(True))
        )
    ).scalars()
    wanted: set[str] = set()
    for kind in kinds:
        if kind is None:  # an endpoint for every event
            return lambda _type: True
        wanted.update(kind)
    return wanted.__contains__


async def fan_out(session: AsyncSession, event: Event) -> int:
    """One delivery (and its first attempt's job) per enabled endpoint subscribed to
    ``event``; run once per event by the consumer (its consumed-event record commits with
    them), and the (event, endpoint) unique index refuses a second one anyway."""
    endpoints = (
        await session.execute(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.enabled.is_(True))
            .order_by(WebhookEndpoint.id)
        )
    ).scalars()
    wanted = [e for e in endpoints if subscribed(e, event.type)]
    if not wanted:
        return 0
    body = body_of(event.type, event.occurred_at, event.payload.model_dump(mode="json"))
    deliveries = [_new_delivery(e.id, event.id, event.type, body) for e in wanted]
    session.add_all(deliveries)
    await session.flush()
    for delivery in deliveries:
        await _schedule(session, delivery, retries=True)
    return len(deliveries)


async def send_test(session: AsyncSession, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``webhook.test`` message to ``endpoint``, attempted once (no retries, and its
    failure never disables the endpoint)."""
    if not endpoint.enabled:
        raise DeliveryConflict("The endpoint is disabled: enable it first.")
    event_id = new_id()
    body = body_of(
        TEST_EVENT,
        utcnow(),
        {"endpoint_id": endpoint.id, "message": "A test message from liveclass."},
    )
    delivery = _new_delivery(endpoint.id, event_id, TEST_EVENT, body)
    session.add(delivery)
    await session.flush()
    await _schedule(session, delivery, retries=False)
    return delivery


async def list_deliveries(
    session: AsyncSession,
    endpoint_id: int,
    *,
    status: str | None,
    before: int | None,
    limit: int,
) -> list[WebhookDelivery]:
    """An endpoint's deliveries, newest first, optionally of one status, before id
    ``before``."""
    conditions: list[ColumnElement[bool]] = [WebhookDelivery.endpoint_id == endpoint_id]
    if status:
        conditions.append(WebhookDelivery.status == status)
    if before is not None:
        conditions.append(WebhookDelivery.id < before)
    query = select(WebhookDelivery).where(*conditions).order_by(WebhookDelivery.id.desc())
    return list((await session.execute(query.limit(limit))).scalars())


async def get_delivery(
    session: AsyncSession, endpoint_id: int, delivery_id: int
) -> WebhookDelivery:
    """Delivery ``delivery_id`` of endpoint ``endpoint_id`` (DeliveryNotFound if none)."""
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint_id:
        raise DeliveryNotFound("No such delivery for this endpoint.")
    return delivery


async def redeliver(
    session: AsyncSession, endpoint: WebhookEndpoint, delivery: WebhookDelivery
) -> WebhookDelivery:
    """Attempt a delivered or failed delivery once more, now, with the same ``webhook-id``
    (receivers dedupe on it) and the same body; a failure here retries no further."""
    if not endpoint.enabled:
        raise DeliveryConflict("The endpoint is disabled: enable it first.")
    if delivery.status == "pending":
        raise DeliveryConflict("This delivery is still being attempted.")
    done = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id, WebhookDelivery.status == delivery.status)
        .values(status="pending", next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not getattr(done, "rowcount", 0):
        raise DeliveryConflict("The delivery changed meanwhile; try again.")
    await session.refresh(delivery)
    await _schedule(session, delivery, retries=False)
    return delivery


# ---------------------------------------------------------------- attempts


@dataclass(frozen=True)
class Attempt:
    """What an attempt needs, read before the HTTP call (no transaction held during it)."""

    delivery_id: int
    webhook_id: str
    url: str
    secrets: list[str]
    body: bytes
    enabled: bool


async def prepare(session: AsyncSession, delivery_id: int, attempt: int) -> Attempt | None:
    """The attempt ``attempt`` of a delivery, or None if it is not due (made already, the
    delivery settled or gone: a job run twice does nothing the second time)."""
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != "pending" or delivery.attempts != attempt - 1:
        return None
    endpoint = await session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None:
        return None
    return Attempt(
        delivery.id,
        delivery.webhook_id,
        endpoint.url,
        signing_secrets(endpoint, utcnow()),
        delivery.body.encode(),
        endpoint.enabled,
    )


async def record(
    session: AsyncSession,
    config: WebhookConfig,
    *,
    delivery_id: int,
    attempt: int,
    outcome: Outcome,
    retries: bool,
) -> str | None:
    """Store the outcome of an attempt and decide what follows: delivered; another attempt
    after the schedule's next delay; or, with the schedule used up, failed (and the
    endpoint disabled when nothing reached it since this delivery began). Returns the
    delivery's new status (None: the attempt was recorded already)."""
    now = utcnow()
    claimed = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == "pending",
            WebhookDelivery.attempts == attempt - 1,
        )
        .values(attempts=attempt)
        .execution_options(synchronize_session=False)
    )
    if not getattr(claimed, "rowcount", 0):
        return None
    delivery = await session.get(WebhookDelivery, delivery_id, populate_existing=True)
    assert delivery is not None
    endpoint = await session.get(WebhookEndpoint, delivery.endpoint_id, populate_existing=True)
    assert endpoint is not None
    line = {
        "attempt": attempt,
        "at": now.isoformat(),
        "status": outcome.status,
        "ok": outcome.ok,
        "error": outcome.error,
        "duration_ms": outcome.duration_ms,
    }
    delivery.attempt_log = [*delivery.attempt_log, line][-LOG_LINES:]
    delivery.last_attempt_at = now
    delivery.response_status = outcome.status
    delivery.response_excerpt = outcome.excerpt
    delivery.error = outcome.error[:500] if outcome.error else None
    delivery.duration_ms = outcome.duration_ms
    if outcome.ok:
        delivery.status = "delivered"
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        endpoint.failure_streak = 0
        endpoint.last_success_at = now
        return delivery.status
    endpoint.failure_streak += 1
    if retries and attempt <= len(config.schedule) and endpoint.enabled:
        at = now + timedelta(seconds=config.schedule[attempt - 1])
        delivery.next_attempt_at = at
        await _schedule(session, delivery, retries=True, at=at)
        return delivery.status
    delivery.status = "failed"
    delivery.next_attempt_at = None
    began = as_utc(delivery.created_at)
    succeeded = endpoint.last_success_at is not None and as_utc(endpoint.last_success_at) > began
    if retries and endpoint.enabled and not succeeded:
        hours = (now - began).total_seconds() / 3600
        reason = (
            f"Delivery {delivery.id} failed {attempt} times over {hours:.1f} h "
            f"(last: {delivery.error or 'no answer'}); nothing was delivered meanwhile."
        )
        await disable(session, endpoint, reason=reason, by=None, failed_delivery_id=delivery.id)
        session.add(
            AuditEvent(
                actor_id=None,
                actor_kind="system",
                action="webhook.endpoint_disabled",
                target_type="webhook_endpoint",
                target_id=str(endpoint.id),
                outcome="success",
                detail={"reason": reason, "delivery_id": delivery.id, "url": endpoint.url},
            )
        )
    return delivery.status
