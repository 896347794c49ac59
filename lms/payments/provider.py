"""The payment provider interface (Stripe, offline, ...).

The order state machine only sees these values: every adapter maps its own
objects and event names onto them, so the core is provider-agnostic.

Money is always an ``int`` of minor units and an upper-case ISO 4217 code.
Times are timezone-aware UTC ``datetime``s. Webhook ``headers`` are passed with
lower-case names.

Adapters are built by ``lms.payments.providers.build_provider(settings)`` from the
``LIVECLASS_PAYMENTS_*`` / ``LIVECLASS_STRIPE_*`` settings; the Stripe adapter is
``lms.payments.stripe_provider.StripeProvider(api_key=..., webhook_secrets=[...],
api_base=... or None, tolerance_seconds=...)`` with ``name = "stripe"``.
``split_secrets`` turns a comma-separated setting into the list.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable


class ProviderError(Exception):
    """The provider refused or failed a call (network, 4xx/5xx from its API)."""

    def __init__(
        self, message: str, *, code: str = "provider_error", retryable: bool = False
    ) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class WebhookError(Exception):
    """A webhook could not be accepted (the caller answers 400)."""


class InvalidSignature(WebhookError):
    """No configured secret produces a matching signature (or the header is malformed)."""


class StaleTimestamp(WebhookError):
    """The signed timestamp is outside the tolerance window (replay)."""


class MalformedEvent(WebhookError):
    """The signature is valid but the body is not an event we can read."""


class EventType(StrEnum):
    """Normalised event types. Adapters map provider names onto these."""

    CHECKOUT_COMPLETED = "checkout.completed"  # paid (payment_ref set)
    CHECKOUT_EXPIRED = "checkout.expired"  # session expired unpaid
    PAYMENT_FAILED = "payment.failed"  # payment attempt failed / declined
    # data: {"refund_ref", "amount" (this refund), "refunded_amount" (cumulative, if known),
    # "refund_key" (our idempotency key when we asked for it)}
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"
    DISPUTE_OPENED = "dispute.opened"
    OTHER = "other"  # anything else: stored, not acted upon


class PaymentStatus(StrEnum):
    """A provider's view of one checkout/payment, normalised."""

    OPEN = "open"  # checkout not finished yet
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"  # refunded_amount == amount
    PARTIALLY_REFUNDED = "partially_refunded"


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CheckoutLine:
    name: str
    unit_amount: int  # minor units, after discounts
    quantity: int = 1


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    order_id: str  # our order id; adapters send it as client_reference_id / metadata
    lines: Sequence[CheckoutLine]
    currency: str  # ISO 4217, upper case
    customer_email: str | None
    success_url: str
    cancel_url: str
    expires_at: datetime
    idempotency_key: str  # forwarded to the provider (Stripe's Idempotency-Key)

    @property
    def amount(self) -> int:
        return sum(line.unit_amount * line.quantity for line in self.lines)


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    provider: str  # "offline" | "stripe"
    session_id: str
    url: str  # where the buyer's browser goes to pay
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    session_id: str
    payment_ref: str | None  # e.g. Stripe payment_intent id; None until paid
    status: PaymentStatus
    amount: int
    currency: str
    refunded_amount: int = 0
    order_id: str | None = None  # our order id as the provider echoes it back
    created: datetime | None = None


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    refund_ref: str
    status: RefundStatus
    amount: int


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    event_id: str  # the provider's event id: we dedupe on (provider, event_id)
    type: EventType
    created: datetime
    session_id: str | None
    payment_ref: str | None
    order_id: str | None = None  # our order id if the event carries it
    raw_type: str = ""  # the provider's own event type, for the stored record
    data: Mapping[str, object] = field(default_factory=dict)


@runtime_checkable
class PaymentProvider(Protocol):
    """What the payments core needs from a provider.

    Every method may raise ``ProviderError``. ``verify_webhook`` raises
    ``InvalidSignature`` / ``StaleTimestamp`` / ``MalformedEvent`` and must
    accept a signature made with any of the configured secrets (rotation:
    two valid secrets at once).
    """

    name: str

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession: ...

    async def retrieve(self, session_id: str) -> ProviderPayment: ...

    async def expire_checkout(self, session_id: str) -> ProviderPayment:
        """Close an open checkout so nobody can pay it any more, and read it back (a
        payment that got in first shows as paid)."""
        ...

    async def refund(
        self,
        payment_ref: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        reason: str | None = None,
    ) -> ProviderRefund: ...

    def verify_webhook(
        self, raw_body: bytes, headers: Mapping[str, str], now: datetime
    ) -> ProviderEvent: ...

    def list_payments(self, since: datetime, until: datetime) -> AsyncIterator[ProviderPayment]: ...


WEBHOOK_TOLERANCE_SECONDS = 300


def split_secrets(value: str) -> list[str]:
    """``"a, b"`` -> ``["a", "b"]``: the first signs, every one verifies."""
    return [part.strip() for part in value.split(",") if part.strip()]
