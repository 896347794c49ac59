"""The webhooks' background work: a consumer of every event in the catalogue that turns
each into deliveries (an event no enabled endpoint subscribes to is not handed to it at
all: ``deliveries.subscriptions``), and the job making one delivery attempt.
``register`` adds both to a node's jobs (parts.build_jobs), after every other domain
declared its event types."""

from __future__ import annotations

import dataclasses

from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import Catalogue, Consumer, Event
from jobs.types import JobContext, JobRegistry, JobType
from lms.webhooks import deliveries, delivery
from lms.webhooks.config import WebhookConfig

CONSUMER = "webhooks"


def deliver_job(config: WebhookConfig) -> JobType:
    """The ``webhooks.deliver`` job under ``config``: read the attempt, make the HTTP call
    outside any transaction, then record its outcome (and what follows) in one."""

    async def deliver(ctx: JobContext) -> None:
        delivery_id = int(ctx.args["delivery_id"])
        attempt = int(ctx.args["attempt"])
        retries = bool(ctx.args.get("retries", True))
        async with ctx.sessions() as session:
            prepared = await deliveries.prepare(session, delivery_id, attempt)
        if prepared is None:
            return
        if prepared.enabled:
            outcome = await delivery.attempt(
                config,
                url=prepared.url,
                secrets=prepared.secrets,
                webhook_id=prepared.webhook_id,
                body=prepared.body,
            )
        else:
            outcome = delivery.Outcome(False, None, None, "the endpoint is disabled", 0.0, 0)
        async with ctx.sessions() as session:
            await deliveries.record(
                session,
                config,
                delivery_id=delivery_id,
                attempt=attempt,
                outcome=outcome,
                retries=retries,
            )
            await session.commit()

    return dataclasses.replace(deliveries.DELIVER, handler=deliver)


async def fan_out(session: AsyncSession, event: Event) -> None:
    """The consumer: deliveries for the endpoints subscribed to ``event``."""
    await deliveries.fan_out(session, event)


def register(registry: JobRegistry, catalogue: Catalogue, config: WebhookConfig) -> None:
    """Add the delivery job and a consumer of every event type declared so far."""
    registry.add(deliver_job(config))
    names = tuple(t.name for t in catalogue.types)
    catalogue.subscribe(
        Consumer(
            CONSUMER,
            names,
            fan_out,
            max_attempts=10,
            timeout=60.0,
            wants=deliveries.subscriptions,
        )
    )
