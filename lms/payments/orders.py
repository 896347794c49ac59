"""Orders: priced on the server, a limited seat held while the buyer pays, checkout through
the provider, and expiry (the ``payments.expire_order`` job, run when the checkout ends)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.queue import enqueue
from jobs.types import JobContext, JobType
from lms.auth import Principal
from lms.courses.events import CourseEvents
from lms.errors import InvalidInput, NotFound
from lms.payments import catalogue, duplicates
from lms.payments.machine import Signal, Status
from lms.payments.precheck import Seen
from lms.payments.pricing import CouponRefused, check_coupon, quote
from lms.payments.provider import (
    CheckoutLine,
    CheckoutRequest,
    CheckoutSession,
    PaymentProvider,
    PaymentStatus,
    ProviderError,
    ProviderPayment,
)
from lms.payments.schemas import OrderCreate
from lms.payments.transitions import apply, lock_order
from lms.permissions import Permission, permissions_of
from lms.workshops import seats
from persistence.models import Coupon, Order, Price, Reservation
from persistence.models.base import new_id, utcnow

LIVE = ("pending", "failed", "paid", "fulfilled", "partially_refunded")


def pseudonym() -> str:
    return "buyer-" + secrets.token_hex(8)


async def _coupon(
    session: AsyncSession, code: str, product_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> Coupon:
    coupon = await catalogue.coupon_by_code(session, code)
    used = await session.execute(
        select(func.count()).where(
            Order.coupon_id == coupon.id, Order.user_id == user_id, Order.status.in_(LIVE)
        )
    )
    check_coupon(
        catalogue.terms(coupon),
        product_id=product_id,
        user_id=user_id,
        used_by_user=used.scalar_one(),
        now=now,
    )
    claimed = await session.execute(
        update(Coupon)
        .where(
            Coupon.id == coupon.id,
            (Coupon.max_redemptions.is_(None)) | (Coupon.redemptions < Coupon.max_redemptions),
        )
        .values(redemptions=Coupon.redemptions + 1)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise CouponRefused("This coupon has been used up.", reason="used_up", coupon=coupon.code)
    return coupon


@dataclass(frozen=True)
class Started:
    """A new order; ``seat_in``: the workshop whose seat ``hold`` takes, last."""

    order: Order
    seat_in: uuid.UUID | None = None


async def start(
    session: AsyncSession,
    principal: Principal,
    body: OrderCreate,
    now: datetime,
    minutes: int,
    seen: Seen | None = None,
) -> Started:
    """A new order priced from the catalogue (never from the request), unless the buyer
    owns it or has an open order for it already (duplicates.py: 409), its coupon counted
    and a workshop seat held (a seat offered to the buyer from the waitlist is that seat:
    the reservation is ``offered`` and the checkout ends with the offer); a free order is
    paid at once. Any other seat is held by ``hold``, the caller's last statement before
    its commit; a buyer who finds no seat left is refused (409) before anything is written
    or locked. ``seen``: what ``precheck.look`` read first in this transaction (the product
    and price are not read again, nor the workshop when it showed a plain seat to hold)."""
    if seen is not None and seen.product is not None:
        product, price = seen.product, seen.price
    else:
        product = await catalogue.get_product(session, body.product_id)
        price = (
            await session.execute(
                select(Price).where(Price.product_id == product.id, Price.currency == body.currency)
            )
        ).scalar_one_or_none()
    if not product.active:
        raise NotFound("No such product.")
    if price is None:
        raise InvalidInput(
            f"This product is not sold in {body.currency}.",
            reason="currency",
            currencies=[p.currency for p in await catalogue.prices(session, product.id)],
        )
    await duplicates.refuse_duplicate(session, principal.user_id, product)
    workshop_id = product.target_id if product.kind == "workshop" else None
    offered = (
        await seats.look_before_holding(session, workshop_id, principal.user_id, now)
        if workshop_id is not None and not (seen is not None and seen.plain_seat)
        else None
    )
    coupon = (
        await _coupon(session, body.coupon, product.id, principal.user_id, now)
        if body.coupon
        else None
    )
    amounts = quote(price.unit_amount, price.currency, catalogue.terms(coupon) if coupon else None)
    order = Order(
        id=new_id(),  # known now: the order, its reservation and job are flushed at once
        user_id=principal.user_id,
        buyer=pseudonym(),
        email=principal.user.email,  # read when the caller was authenticated
        product_id=product.id,
        product_name=product.name,
        currency=amounts.currency,
        subtotal=amounts.subtotal,
        discount=amounts.discount,
        total=amounts.total,
        coupon_id=coupon.id if coupon else None,
        status=Status.PENDING.value,
        refunded_amount=0,
        expires_at=now + timedelta(minutes=minutes),
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    plain = workshop_id is not None and offered is None  # else held below, under the lock
    if workshop_id is not None and offered is not None:
        offered = await seats.hold_for(session, workshop_id, principal.user_id, now)
        if offered is not None and order.expires_at is not None:
            order.expires_at = min(order.expires_at, offered)
    if workshop_id is not None:
        session.add(
            Reservation(
                order_id=order.id,
                workshop_id=workshop_id,
                state="held" if offered is None else "offered",
                expires_at=order.expires_at,
                created_at=now,
            )
        )
    if order.total == 0:
        order.expires_at = None
        await apply(session, order, Signal.PAID, now)
    else:
        await enqueue(session, EXPIRE, {"order_id": str(order.id)}, run_at=order.expires_at)
    return Started(order, workshop_id if plain else None)


async def hold(session: AsyncSession, started: Started) -> None:
    """Hold the seat of a ``started`` order (``seat_in``) as the transaction's last
    statement: everything else is written first, so the workshop's row stays locked for
    this one UPDATE and the caller's commit (409 when none is left: roll back)."""
    if started.seat_in is None:
        return
    await session.flush()
    await seats.hold_seat(session, started.seat_in, started.order.created_at)


def checkout_request(order: Order, base_url: str) -> CheckoutRequest:
    assert order.expires_at is not None
    return CheckoutRequest(
        order_id=str(order.id),
        lines=[CheckoutLine(order.product_name, order.total, 1)],
        currency=order.currency,
        customer_email=order.email,
        success_url=f"{base_url}/purchases/{order.id}?paid=1",
        cancel_url=f"{base_url}/purchases/{order.id}?cancelled=1",
        expires_at=order.expires_at,
        idempotency_key=f"checkout-{order.id}",
    )


async def attach(session: AsyncSession, order_id: uuid.UUID, checkout: CheckoutSession) -> Order:
    """The provider's checkout recorded on the order, in one UPDATE that reads it back."""
    found = (
        await session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(
                provider=checkout.provider,
                session_id=checkout.session_id,
                checkout_url=checkout.url,
            )
            .returning(Order)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("No such order.")
    return found


async def abandon(session: AsyncSession, order_id: uuid.UUID, now: datetime) -> None:
    """The provider could not open a checkout: the order ends and its seat goes back."""
    order = await lock_order(session, order_id)
    await apply(session, order, Signal.EXPIRED, now)
    order.flag = "provider_error"


async def apply_snapshot(
    session: AsyncSession,
    order: Order,
    payment: ProviderPayment,
    now: datetime,
    course_events: CourseEvents | None = None,
) -> None:
    """Step the order to what the provider says is true (re-read when order matters)."""
    if payment.amount != order.total or payment.currency != order.currency:
        order.flag = "amount_mismatch"
        return
    if payment.status in (
        PaymentStatus.PAID,
        PaymentStatus.REFUNDED,
        PaymentStatus.PARTIALLY_REFUNDED,
    ):
        await apply(session, order, Signal.PAID, now, payment_ref=payment.payment_ref)
        if payment.refunded_amount:
            total = payment.refunded_amount
            await apply(
                session,
                order,
                Signal.REFUNDED,
                now,
                refunded_total=total,
                course_events=course_events,
            )
    elif payment.status is PaymentStatus.EXPIRED:
        await apply(session, order, Signal.EXPIRED, now)
    elif payment.status is PaymentStatus.FAILED:
        await apply(session, order, Signal.FAILED, now)


async def expire(session: AsyncSession, order_id: uuid.UUID, provider: PaymentProvider) -> None:
    """The job: an order still unpaid when its seat hold lapses expires. The provider's
    checkout is closed first (``expire_checkout``: Stripe's session may outlive our hold),
    so nobody can pay a lapsed order; a payment it took before that counts, and one that
    still races in is a late payment (refunded automatically if the seat is gone)."""
    order = await session.get(Order, order_id)
    if order is None or order.status not in ("pending", "failed"):
        return
    session_id, lapsed = order.session_id, order.expires_at is None or utcnow() >= order.expires_at
    await session.commit()
    payment = None
    if session_id:
        try:
            if lapsed:
                payment = await provider.expire_checkout(session_id)
            else:
                payment = await provider.retrieve(session_id)
        except ProviderError:
            payment = None  # expired anyway: a payment that still comes in is a late one
    now = utcnow()
    order = await lock_order(session, order_id)
    if payment is not None and payment.status is not PaymentStatus.OPEN:
        await apply_snapshot(session, order, payment, now)
    if order.status in ("pending", "failed"):
        if order.expires_at is not None and now < order.expires_at:
            await enqueue(session, EXPIRE, {"order_id": str(order.id)}, run_at=order.expires_at)
        else:
            await apply(session, order, Signal.EXPIRED, now)
    await session.commit()


async def _expire_job(ctx: JobContext, *, provider: PaymentProvider) -> None:
    async with ctx.sessions() as session:
        await expire(session, uuid.UUID(str(ctx.args["order_id"])), provider)


async def _unbound(ctx: JobContext) -> None:
    raise RuntimeError("payments.expire_order runs bound to the provider (expire_job)")


EXPIRE = JobType(
    "payments.expire_order",
    _unbound,
    max_attempts=10,
    timeout=60.0,
    summary="end an order nobody paid for in time and release the seat it held",
)


def expire_job(provider: PaymentProvider) -> JobType:
    return replace(EXPIRE, handler=partial(_expire_job, provider=provider))


async def visible(session: AsyncSession, order_id: uuid.UUID, principal: Principal) -> Order:
    """The caller's own order (finance staff: any); someone else's is a 404."""
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFound("No such order.")
    if order.user_id != principal.user_id:
        granted = permissions_of(principal.role)
        if principal.scopes is not None:
            granted = granted & principal.scopes
        if Permission.PAYMENTS_READ not in granted:
            raise NotFound("No such order.")
    return order


async def mine(
    session: AsyncSession,
    user_id: uuid.UUID | None,
    status: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> tuple[list[Order], uuid.UUID | None]:
    """Orders newest first by id order (stable), the caller's or (``user_id`` None) all."""
    query = select(Order)
    if user_id is not None:
        query = query.where(Order.user_id == user_id)
    if status is not None:
        query = query.where(Order.status == status)
    if after is not None:
        query = query.where(Order.id > after)
    rows = list((await session.execute(query.order_by(Order.id).limit(limit + 1))).scalars())
    more = len(rows) > limit
    return rows[:limit], rows[limit - 1].id if more else None
