"""The payments module's job types, periodic jobs and event consumers, as the node
registers them (parts.py): the offline provider's webhook delivery (bound to the secret
that signs), order expiry and automatic refunds (bound to the provider), receipts (bound to
the mailer), fulfilment, and the daily purge of idempotency keys past their 24 hours."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.events import Consumer
from jobs.types import JobContext, JobType, Periodic
from lms import idempotency
from lms.notifications.mail import Mailer
from lms.payments import autorefund, fulfilment, offline, orders, receipts
from lms.payments.providers import build_provider, offline_secrets
from persistence.models.base import utcnow
from settings import Settings


def job_types(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], mailer: Mailer
) -> list[JobType]:
    settings = settings.with_secret()  # the offline webhook secret derives from it
    provider = build_provider(settings, sessions)
    return [
        offline.deliver_job(offline_secrets(settings)[0]),
        orders.expire_job(provider),
        autorefund.auto_refund_job(provider),
        receipts.receipt_job(settings, mailer),
    ]


def consumers() -> list[Consumer]:
    return [fulfilment.FULFIL, receipts.RECEIPTS]


async def _purge(ctx: JobContext) -> None:
    async with ctx.sessions() as session:
        await idempotency.purge(session, utcnow())
        await session.commit()


PURGE_KEYS = Periodic(
    JobType(
        "payments.purge_idempotency_keys",
        _purge,
        max_attempts=3,
        timeout=120.0,
        summary="forget Idempotency-Keys older than 24 hours",
    ),
    "@every 1h",
)
