"""The payments domain's events (jobs/events.py). ``payments.order_paid`` is consumed by
fulfilment (the entitlement is granted exactly once, in the consumer's transaction);
``order_fulfilled`` and ``order_refunded`` send the buyer a receipt; ``refund_failed`` says a
refund was undone at the provider; webhooks carry all of them out. Payloads hold no card
data and no e-mail address."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from jobs.events import EventType


class OrderEvent(BaseModel):
    """Something happened to an order."""

    order_id: uuid.UUID = Field(description="The order.")
    user_id: uuid.UUID | None = Field(description="The buyer (none once erased).")
    product_id: uuid.UUID = Field(description="The product bought.")
    kind: str = Field(description="The product's kind: course, workshop or plan.")
    total: int = Field(description="What the order cost, in minor units.")
    currency: str = Field(description="ISO 4217 currency.")
    status: str = Field(description="The order's status after the change.")
    refunded_amount: int = Field(description="Refunded so far, in minor units.")


ORDER_PAID = EventType(
    "payments.order_paid",
    OrderEvent,
    aggregate="order",
    summary="An order was paid (or cost nothing): its entitlement is to be granted.",
)
ORDER_FULFILLED = EventType(
    "payments.order_fulfilled",
    OrderEvent,
    aggregate="order",
    summary="A paid order's entitlement was granted (course enrolment, workshop seat, plan).",
)
ORDER_REFUNDED = EventType(
    "payments.order_refunded",
    OrderEvent,
    aggregate="order",
    summary="Money was given back on an order (full: its entitlement was revoked; partial: kept).",
)
ORDER_EXPIRED = EventType(
    "payments.order_expired",
    OrderEvent,
    aggregate="order",
    summary="An order's checkout expired unpaid; a seat held for it was released.",
)


class RefundFailedEvent(OrderEvent):
    """A refund the provider had accepted failed there: the money stayed with us."""

    refund_id: uuid.UUID = Field(description="Our refund record, now failed.")
    refund_amount: int = Field(description="The failed refund's amount, in minor units.")
    failure_reason: str = Field(description="The provider's reason, e.g. expired_or_canceled_card.")
    restored: bool = Field(description="Whether the entitlement the refund revoked came back.")


REFUND_FAILED = EventType(
    "payments.refund_failed",
    RefundFailedEvent,
    aggregate="order",
    summary=(
        "A refund failed at the provider: the order's refunded amount and state went back "
        "to before it, and an entitlement its full refund revoked was restored."
    ),
)
EVENT_TYPES = (ORDER_PAID, ORDER_FULFILLED, ORDER_REFUNDED, ORDER_EXPIRED, REFUND_FAILED)
