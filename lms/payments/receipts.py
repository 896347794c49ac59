"""Receipts: an e-mail to the buyer when an order is fulfilled and when money is given back
(the ``payments.receipt`` job, which the dispatcher enqueues for each such event: the
``payments.receipts`` job consumer; sent through the notifications' SMTP path), and the
printable receipt's data."""

from __future__ import annotations

import uuid
from dataclasses import replace
from functools import partial
from html import escape
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import job_consumer
from jobs.types import JobContext, JobType
from lms.notifications import templates
from lms.notifications.mail import Email, Mailer
from lms.payments import events
from lms.payments.refunds import of_order
from lms.payments.schemas import OrderOut, ReceiptOut, RefundOut
from persistence.engine import single_statements
from persistence.models import Order, User
from settings import Settings

SELLER = "liveclass"
NO_SEAT_FLAGS = ("paid_without_seat",)
NO_SEAT_NOTE = (
    "Your payment arrived after the seat we held for you had lapsed, and the workshop was "
    "full by then, so we refunded you in full. Nothing more will be charged."
)


def money(amount: int, currency: str) -> str:
    """``1999, EUR`` -> ``19.99 EUR`` (two decimals; JPY-like currencies have none)."""
    if currency in ("JPY", "KRW", "VND", "CLP", "ISK", "HUF"):
        return f"{amount} {currency}"
    return f"{amount // 100}.{amount % 100:02d} {currency}"


def receipt_email(to: str, name: str, order: Order, kind: str, url: str) -> Email:
    refunded = kind == events.ORDER_REFUNDED.name
    subject = (
        f"Refund receipt: {order.product_name}" if refunded else f"Receipt: {order.product_name}"
    )
    lines = [
        f"Hello {name},",
        "",
        f"Order {order.id}",
        f"Product: {order.product_name}",
        f"Price: {money(order.subtotal, order.currency)}",
    ]
    if order.discount:
        lines.append(f"Discount: -{money(order.discount, order.currency)}")
    lines.append(f"Paid: {money(order.total, order.currency)}")
    if order.refunded_amount:
        lines.append(f"Refunded: {money(order.refunded_amount, order.currency)}")
    if refunded and order.flag in NO_SEAT_FLAGS:
        lines += ["", NO_SEAT_NOTE]
    lines += ["", f"Printable receipt: {url}", "", f"Sold by {SELLER}. No card data is kept."]
    text = "\n".join(lines)
    body = "".join(f"<p>{escape(line)}</p>" for line in lines if line)
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(subject)}</title></head><body>{body}</body></html>"
    )
    return Email(to=to, subject=subject, text=text, html=html)


BUYER = (
    select(Order, User.name, User.erased_at)
    .join(User, User.id == Order.user_id)
    .where(Order.id == bindparam("order_id"))
)
"""The order and its buyer's name, in one statement built once."""


async def send(ctx: JobContext, *, settings: Settings, mailer: Mailer) -> None:
    async with ctx.sessions() as session:
        await single_statements(session)  # one read: no transaction around it
        found = (
            await session.execute(BUYER, {"order_id": uuid.UUID(str(ctx.args["order_id"]))})
        ).first()
        await session.commit()
    if found is None:
        return
    order, name, erased_at = found
    if not order.email or erased_at is not None:
        return
    url = templates.absolute(settings.public_url, f"/purchases/{order.id}/receipt") or ""
    email = receipt_email(order.email, name, order, str(ctx.args["kind"]), url)
    await mailer.send(email, key=f"receipt-{ctx.args['event_id']}")


async def _unbound(ctx: JobContext) -> None:
    raise RuntimeError("payments.receipt runs bound to the mailer (receipt_job)")


RECEIPT = JobType(
    "payments.receipt",
    _unbound,
    max_attempts=8,
    timeout=60.0,
    summary="e-mail the buyer a receipt (an order fulfilled or refunded)",
)


def receipt_job(settings: Settings, mailer: Mailer) -> JobType:
    return replace(RECEIPT, handler=partial(send, settings=settings, mailer=mailer))


def _receipt_args(kind: str, event_id: uuid.UUID, payload: dict[str, Any]) -> dict[str, Any]:
    return {"order_id": str(payload["order_id"]), "event_id": str(event_id), "kind": kind}


RECEIPTS = job_consumer(
    "payments.receipts",
    (events.ORDER_FULFILLED.name, events.ORDER_REFUNDED.name),
    RECEIPT,
    _receipt_args,
)
"""The dispatcher enqueues the ``payments.receipt`` job itself for each of these events."""


async def receipt(session: AsyncSession, order: Order) -> ReceiptOut:
    user = await session.get(User, order.user_id) if order.user_id else None
    name = user.name if user is not None and user.erased_at is None else order.buyer
    return ReceiptOut(
        order=OrderOut.model_validate(order),
        buyer_name=name,
        buyer_email=order.email,
        seller=SELLER,
        refunds=[RefundOut.model_validate(r) for r in await of_order(session, order.id)],
    )
