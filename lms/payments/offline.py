"""The offline provider: the embedded default, which behaves like a real one.

It keeps its own checkout sessions (``payment_offline_sessions``), serves its own hosted
checkout page (``/pay/offline/{session}``, offline_routes.py) with Pay and Decline, and
tells us what happened the way Stripe does: a signed webhook (offline_wire.py: HMAC-SHA256
over ``timestamp.body``, header ``Liveclass-Signature: t=...,v1=...``) POSTed over HTTP to our
own webhook endpoint by a durable job, out of band, retried until answered 2xx (and so
possibly delivered more than once). Refunds and the payments list for reconciliation too;
a refund it made can fail afterwards (``fail_refund``: a ``refund.failed`` webhook, as a card
network's late bounce reaches Stripe).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from urllib.parse import urlsplit

import httpx
import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.queue import enqueue
from jobs.types import JobContext, JobType
from lms.payments.offline_wire import (
    SIGNATURE_HEADER,
    WEBHOOK_PATH,
    event_body,
    parse_event,
    sign,
    verify,
)
from lms.payments.provider import (
    CheckoutRequest,
    CheckoutSession,
    EventType,
    PaymentStatus,
    ProviderError,
    ProviderEvent,
    ProviderPayment,
    ProviderRefund,
    RefundStatus,
)
from lms.payments.retry import in_transaction
from persistence.models import OfflineRefund, OfflineSession
from persistence.models.base import utcnow

NAME = "offline"


def _status(row: OfflineSession, now: datetime) -> PaymentStatus:
    if row.status == "paid":
        if row.refunded_amount >= row.amount:
            return PaymentStatus.REFUNDED
        if row.refunded_amount:
            return PaymentStatus.PARTIALLY_REFUNDED
        return PaymentStatus.PAID
    if row.status == "open" and now >= row.expires_at:
        return PaymentStatus.EXPIRED
    known = ("open", "failed", "expired")
    return PaymentStatus(row.status) if row.status in known else PaymentStatus.OPEN


def payment_of(row: OfflineSession, now: datetime) -> ProviderPayment:
    return ProviderPayment(
        session_id=row.id,
        payment_ref=row.payment_ref,
        status=_status(row, now),
        amount=row.amount,
        currency=row.currency,
        refunded_amount=row.refunded_amount,
        order_id=row.order_id,
        created=row.created_at,
    )


class OfflineProvider:
    """The offline provider; its records live in this database but it is used only through
    the provider interface (plus ``complete`` for its own checkout page)."""

    name = NAME

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        secrets_: Sequence[str],
        *,
        tolerance_seconds: int = 300,
    ) -> None:
        if not secrets_:
            raise ValueError("the offline provider needs a webhook secret")
        self.sessions = sessions
        self.secrets = list(secrets_)
        self.tolerance = tolerance_seconds

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        parts = urlsplit(request.success_url)
        origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
        session_id = "cs_off_" + secrets.token_urlsafe(24)

        async def add(session: AsyncSession) -> None:
            session.add(
                OfflineSession(
                    id=session_id,
                    order_id=request.order_id,
                    amount=request.amount,
                    currency=request.currency,
                    description=", ".join(line.name for line in request.lines)[:500],
                    status="open",
                    success_url=request.success_url,
                    cancel_url=request.cancel_url,
                    webhook_url=origin + WEBHOOK_PATH,
                    expires_at=request.expires_at,
                    created_at=utcnow(),
                )
            )

        await in_transaction(self.sessions, add)
        url = f"{origin}/pay/offline/{session_id}"
        return CheckoutSession(NAME, session_id, url, request.expires_at)

    async def session(self, session_id: str) -> OfflineSession | None:
        async with self.sessions() as session:
            return await session.get(OfflineSession, session_id[:64])

    async def retrieve(self, session_id: str) -> ProviderPayment:
        row = await self.session(session_id)
        if row is None:
            raise ProviderError("No such checkout session.", code="resource_missing")
        return payment_of(row, utcnow())

    async def refund(
        self,
        payment_ref: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        reason: str | None = None,
    ) -> ProviderRefund:
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(OfflineSession).where(OfflineSession.payment_ref == payment_ref)
                )
            ).scalar_one_or_none()
            if row is None or row.status != "paid":
                raise ProviderError("No such payment.", code="resource_missing")
            if currency != row.currency or amount <= 0:
                raise ProviderError("Wrong amount or currency.", code="invalid_request")
            claimed = await session.execute(
                update(OfflineSession)
                .where(
                    OfflineSession.id == row.id,
                    OfflineSession.refunded_amount + amount <= OfflineSession.amount,
                )
                .values(refunded_amount=OfflineSession.refunded_amount + amount)
            )
            if getattr(claimed, "rowcount", 0) != 1:
                raise ProviderError(
                    "The refund exceeds what is left of the payment.", code="amount_too_large"
                )
            await session.refresh(row)
            ref = "re_off_" + secrets.token_urlsafe(18)
            session.add(
                OfflineRefund(
                    id=ref,
                    session_id=row.id,
                    amount=amount,
                    status="succeeded",
                    refund_key=idempotency_key[:255],
                    created_at=utcnow(),
                )
            )
            body = event_body(
                EventType.REFUND_SUCCEEDED,
                row,
                refund_ref=ref,
                refund=amount,
                refund_key=idempotency_key[:255],
            )
            await enqueue(session, DELIVER, {"url": row.webhook_url, "event": body})
            await session.commit()
        return ProviderRefund(ref, RefundStatus.SUCCEEDED, amount)

    async def fail_refund(self, refund_ref: str, reason: str = "expired_or_canceled_card") -> bool:
        """A refund it made fails afterwards (the buyer's card was closed, as a card network
        can report days later): the money is back with the seller, the payment's refunded
        total drops, and a signed ``refund.failed`` webhook is sent. False when there is no
        such succeeded refund."""

        async def fail(session: AsyncSession) -> bool:
            made = await session.get(OfflineRefund, refund_ref[:64])
            if made is None or made.status != "succeeded":
                return False
            row = await session.get(OfflineSession, made.session_id)
            if row is None:
                return False
            made.status, made.failure_reason = "failed", reason[:100]
            row.refunded_amount = max(0, row.refunded_amount - made.amount)
            body = event_body(
                EventType.REFUND_FAILED,
                row,
                refund_ref=made.id,
                refund=made.amount,
                refund_key=made.refund_key,
                failure_reason=made.failure_reason,
            )
            await enqueue(session, DELIVER, {"url": row.webhook_url, "event": body})
            return True

        return await in_transaction(self.sessions, fail)

    async def expire_checkout(self, session_id: str) -> ProviderPayment:
        """Close a checkout that is still open or failed (its seat hold lapsed): its page
        refuses payment from now on. A paid one is only read back: a payment that won the
        race is never lost."""

        async def close(session: AsyncSession) -> ProviderPayment | None:
            row = await session.get(OfflineSession, session_id[:64])
            if row is None:
                return None
            if row.status in ("open", "failed"):
                row.status = "expired"
            return payment_of(row, utcnow())

        payment = await in_transaction(self.sessions, close)
        if payment is None:
            raise ProviderError("No such checkout session.", code="resource_missing")
        return payment

    def verify_webhook(
        self, raw_body: bytes, headers: Mapping[str, str], now: datetime
    ) -> ProviderEvent:
        verify(raw_body, headers.get(SIGNATURE_HEADER), self.secrets, now, self.tolerance)
        return parse_event(raw_body)

    async def list_payments(
        self, since: datetime, until: datetime
    ) -> AsyncIterator[ProviderPayment]:
        after = ""
        while True:
            async with self.sessions() as session:
                rows = list(
                    (
                        await session.execute(
                            select(OfflineSession)
                            .where(
                                OfflineSession.created_at >= since,
                                OfflineSession.created_at < until,
                                OfflineSession.id > after,
                            )
                            .order_by(OfflineSession.id)
                            .limit(100)
                        )
                    ).scalars()
                )
            now = utcnow()
            for row in rows:
                yield payment_of(row, now)
            if len(rows) < 100:
                return
            after = rows[-1].id

    async def complete(self, session_id: str, paid: bool) -> OfflineSession | None:
        """The buyer pressed Pay (or Decline) on the checkout page: record it and send the
        webhook. None when the session is unknown, expired (by time or by ``expire_checkout``)
        or already paid."""

        async def record(session: AsyncSession) -> OfflineSession | None:
            row = await session.get(OfflineSession, session_id[:64])
            now = utcnow()
            if row is None or row.status in ("paid", "expired") or now >= row.expires_at:
                return None
            if paid:
                row.status, row.payment_ref = "paid", "pi_off_" + secrets.token_urlsafe(18)
                kind = EventType.CHECKOUT_COMPLETED
            else:
                row.status, kind = "failed", EventType.PAYMENT_FAILED
            body = event_body(kind, row)
            await enqueue(session, DELIVER, {"url": row.webhook_url, "event": body})
            return row

        return await in_transaction(self.sessions, record)


async def _deliver(ctx: JobContext, *, secret: str) -> None:
    body = orjson.dumps(ctx.args["event"])
    header = sign(body, secret, int(time.time()))
    headers = {"content-type": "application/json", "Liveclass-Signature": header}
    async with httpx.AsyncClient(timeout=15.0) as client:
        answer = await client.post(str(ctx.args["url"]), content=body, headers=headers)
    if answer.status_code >= 300:
        raise RuntimeError(f"the webhook endpoint answered {answer.status_code}")


async def _unbound(ctx: JobContext) -> None:
    raise RuntimeError("payments.offline_deliver runs bound to its secret (deliver_job)")


DELIVER = JobType(
    "payments.offline_deliver",
    _unbound,
    max_attempts=8,
    timeout=30.0,
    summary="the offline provider POSTs one signed webhook event to the node",
)


def deliver_job(secret: str) -> JobType:
    """The delivery job bound to the secret that signs (the first configured one)."""
    return replace(DELIVER, handler=partial(_deliver, secret=secret))
