"""The Stripe adapter: Stripe Checkout Sessions through the official ``stripe`` SDK.

Card data never reaches us: ``create_checkout`` makes a hosted Checkout Session (one
``price_data`` line per order line, our order id as ``client_reference_id`` and in the
session's and the payment intent's metadata) and the buyer's browser goes to its ``url``.
Every POST carries an idempotency key (ours for checkouts and refunds), so the SDK's own
retries (``max_network_retries``) and ours can never charge or refund twice.

Stripe's rules the adapter keeps:

- A session expires between 30 minutes and 24 hours after creation: an earlier ``expires_at``
  is moved to 30 minutes (plus a minute of clock margin) and the returned ``expires_at`` says
  so; the core expires the session itself (``expire_checkout``) when its reservation lapses.
- Currencies travel in lower case; we hand back upper case.
- Refund ``reason`` is Stripe's enum: ours goes into the refund's metadata.

Webhooks are verified with the SDK's ``WebhookSignature.verify_header`` against every
configured secret (rotation: two valid at once), then the signed timestamp is checked against
``now`` (too old or too far ahead: ``StaleTimestamp``). Event types are normalised:

==========================================  ==========================================
``checkout.session.completed`` (paid)       ``checkout.completed``
``checkout.session.async_payment_succeeded`` ``checkout.completed``
``checkout.session.async_payment_failed``   ``payment.failed``
``payment_intent.payment_failed``           ``payment.failed``
``checkout.session.expired``                ``checkout.expired``
``charge.refunded``                         ``refund.succeeded`` (``refunded_amount`` is the
                                            charge's cumulative total, ``amount`` this
                                            refund's part: idempotent to apply)
``refund.created``, ``refund.updated``,     ``refund.succeeded`` (``amount`` this refund's,
``charge.refund.updated`` with status       no cumulative: the refund ledger adds it up)
succeeded
``refund.failed``, ``refund.updated`` or    ``refund.failed`` (``failure_reason`` the
``charge.refund.updated`` with status       refund's, or ``canceled``): the refund is
failed or canceled                          undone here (refund_failures.py)
``charge.dispute.created``                  ``dispute.opened``
anything else                               ``other`` (stored, not acted on)
==========================================  ==========================================
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

import stripe

from lms.payments.provider import (
    WEBHOOK_TOLERANCE_SECONDS,
    CheckoutRequest,
    CheckoutSession,
    EventType,
    InvalidSignature,
    MalformedEvent,
    PaymentStatus,
    ProviderError,
    ProviderEvent,
    ProviderPayment,
    ProviderRefund,
    RefundStatus,
    StaleTimestamp,
)

T = TypeVar("T")

MIN_SESSION = timedelta(minutes=31)  # Stripe's 30 minutes plus a minute for clock skew
MAX_SESSION = timedelta(hours=23, minutes=59)
PAGE = 100
EXPAND_SESSION = ["payment_intent.latest_charge"]

_EVENT_TYPES: dict[str, EventType] = {
    "checkout.session.async_payment_succeeded": EventType.CHECKOUT_COMPLETED,
    "checkout.session.async_payment_failed": EventType.PAYMENT_FAILED,
    "payment_intent.payment_failed": EventType.PAYMENT_FAILED,
    "checkout.session.expired": EventType.CHECKOUT_EXPIRED,
    "charge.refunded": EventType.REFUND_SUCCEEDED,
    "refund.failed": EventType.REFUND_FAILED,
    "charge.dispute.created": EventType.DISPUTE_OPENED,
}


def _at(seconds: object) -> datetime | None:
    return datetime.fromtimestamp(int(cast(int, seconds)), UTC) if seconds is not None else None


def _get(obj: Mapping[str, Any] | None, key: str) -> Any:
    return obj.get(key) if obj is not None else None


def _ref(value: Any) -> str | None:
    """An id that may have been expanded into its object."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return cast(str | None, _get(value, "id"))


def payment_from_session(cs: Mapping[str, Any]) -> ProviderPayment:
    """A Checkout Session (``payment_intent.latest_charge`` expanded or not) -> our view."""
    intent = cs.get("payment_intent")
    charge = _get(intent, "latest_charge") if not isinstance(intent, str) else None
    refunded = int(_get(charge, "amount_refunded") or 0) if not isinstance(charge, str) else 0
    amount = int(cs.get("amount_total") or 0)
    state, paid = cs.get("status"), cs.get("payment_status")
    if state == "expired":
        status = PaymentStatus.EXPIRED
    elif state == "complete" and paid in ("paid", "no_payment_required"):
        if refunded and refunded >= amount:
            status = PaymentStatus.REFUNDED
        elif refunded:
            status = PaymentStatus.PARTIALLY_REFUNDED
        else:
            status = PaymentStatus.PAID
    elif _get(intent, "status") == "canceled":
        status = PaymentStatus.FAILED
    else:
        status = PaymentStatus.OPEN  # open, or complete with an asynchronous payment pending
    metadata = cs.get("metadata") or {}
    return ProviderPayment(
        session_id=str(cs["id"]),
        payment_ref=_ref(intent),
        status=status,
        amount=amount,
        currency=str(cs.get("currency") or "").upper(),
        refunded_amount=refunded,
        order_id=cs.get("client_reference_id") or _get(metadata, "order_id"),
        created=_at(cs.get("created")),
    )


def _provider_error(exc: stripe.StripeError) -> ProviderError:
    status = exc.http_status or 0
    retryable = isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError) or status >= 500
    if isinstance(exc, stripe.IdempotencyError):
        code = "idempotency_error"
    else:
        code = exc.code or type(exc).__name__
    message = exc.user_message or str(exc) or type(exc).__name__
    return ProviderError(f"stripe: {message}", code=str(code), retryable=retryable)


async def _call(awaitable: Awaitable[T]) -> T:
    try:
        return await awaitable
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc


class StripeProvider:
    """``PaymentProvider`` on Stripe Checkout."""

    name = "stripe"

    def __init__(
        self,
        *,
        api_key: str,
        webhook_secrets: list[str],
        api_base: str | None = None,
        tolerance_seconds: int = WEBHOOK_TOLERANCE_SECONDS,
        max_network_retries: int = 2,
        timeout: float = 30.0,
    ) -> None:
        if not api_key:
            raise ValueError("the Stripe adapter needs an API key")
        if not webhook_secrets:
            raise ValueError("the Stripe adapter needs at least one webhook secret")
        self.webhook_secrets = list(webhook_secrets)
        self.tolerance = tolerance_seconds
        self._http = stripe.HTTPXClient(timeout=timeout)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            max_network_retries=max_network_retries,
        )

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    # -------------------------------------------------------------- checkout

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        now = datetime.now(UTC)
        expires_at = min(max(request.expires_at, now + MIN_SESSION), now + MAX_SESSION)
        metadata = {"order_id": request.order_id}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": line.unit_amount,
                        "product_data": {"name": line.name[:250]},
                    },
                    "quantity": line.quantity,
                }
                for line in request.lines
            ],
            "client_reference_id": request.order_id,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "expires_at": int(expires_at.timestamp()),
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        cs = await _call(
            self._client.v1.checkout.sessions.create_async(
                cast(Any, params), {"idempotency_key": request.idempotency_key}
            )
        )
        return CheckoutSession(
            provider=self.name,
            session_id=cs.id,
            url=str(cs.url or ""),
            expires_at=_at(cs.expires_at) or expires_at,
        )

    async def retrieve(self, session_id: str) -> ProviderPayment:
        cs = await _call(
            self._client.v1.checkout.sessions.retrieve_async(
                session_id, cast(Any, {"expand": EXPAND_SESSION})
            )
        )
        return payment_from_session(cs.to_dict())

    async def expire_checkout(self, session_id: str) -> ProviderPayment:
        """Close an open session (its reservation lapsed first); a session that is no longer
        open is only read back, so a payment that won the race is never lost."""
        try:
            await _call(self._client.v1.checkout.sessions.expire_async(session_id))
        except ProviderError as exc:
            if exc.retryable or exc.code == "resource_missing":
                raise
        return await self.retrieve(session_id)

    # -------------------------------------------------------------- refunds

    async def refund(
        self,
        payment_ref: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        reason: str | None = None,
    ) -> ProviderRefund:
        if amount <= 0:
            raise ProviderError("a refund needs a positive amount", code="amount_invalid")
        params: dict[str, Any] = {
            "payment_intent": payment_ref,
            "amount": amount,
            "reason": "requested_by_customer",
            "metadata": {"reason": (reason or "")[:500], "refund_key": idempotency_key[:255]},
        }
        refund = await _call(
            self._client.v1.refunds.create_async(
                cast(Any, params), {"idempotency_key": idempotency_key}
            )
        )
        if str(refund.currency or "").upper() != currency.upper():
            raise ProviderError(
                f"stripe refunded in {refund.currency}, not {currency}", code="currency_mismatch"
            )
        status = {
            "succeeded": RefundStatus.SUCCEEDED,
            "failed": RefundStatus.FAILED,
            "canceled": RefundStatus.FAILED,
        }.get(str(refund.status), RefundStatus.PENDING)
        return ProviderRefund(refund_ref=refund.id, status=status, amount=int(refund.amount))

    # -------------------------------------------------------------- reconciliation

    async def list_payments(
        self, since: datetime, until: datetime
    ) -> AsyncIterator[ProviderPayment]:
        """Every Checkout Session created in ``[since, until)``, newest first, page by page."""
        params = {
            "created": {"gte": int(since.timestamp()), "lt": int(until.timestamp())},
            "limit": PAGE,
            "expand": ["data." + path for path in EXPAND_SESSION],
        }
        page = await _call(self._client.v1.checkout.sessions.list_async(cast(Any, params)))
        while True:
            for cs in page.data:
                yield payment_from_session(cs.to_dict())
            if not page.has_more or not page.data:
                return
            params["starting_after"] = page.data[-1].id
            page = await _call(self._client.v1.checkout.sessions.list_async(cast(Any, params)))

    # -------------------------------------------------------------- webhooks

    def verify_webhook(
        self, raw_body: bytes, headers: Mapping[str, str], now: datetime
    ) -> ProviderEvent:
        header = headers.get("stripe-signature") or ""
        try:
            payload = raw_body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidSignature("the body is not UTF-8") from None
        for secret in self.webhook_secrets:
            try:
                stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=None)
                break
            except stripe.SignatureVerificationError:
                continue
        else:
            raise InvalidSignature("no webhook secret matches the Stripe-Signature header")
        timestamp = _signed_timestamp(header)
        if abs(now.timestamp() - timestamp) > self.tolerance:
            raise StaleTimestamp(f"signed {int(now.timestamp() - timestamp)} s from now")
        try:
            event = json.loads(payload)
            return event_from_stripe(event)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise MalformedEvent(f"not a Stripe event: {exc}") from None


def _signed_timestamp(header: str) -> int:
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                return int(value)
            except ValueError:
                break
    raise InvalidSignature("the Stripe-Signature header has no timestamp")


def event_from_stripe(event: Mapping[str, Any]) -> ProviderEvent:
    """A Stripe event (JSON) -> the normalised event."""
    if event.get("object") != "event":
        raise ValueError("object is not 'event'")
    raw_type = str(event["type"])
    obj: Mapping[str, Any] = event["data"]["object"]
    previous: Mapping[str, Any] = event["data"].get("previous_attributes") or {}
    kind = _EVENT_TYPES.get(raw_type, EventType.OTHER)
    session_id: str | None = None
    payment_ref: str | None = None
    order_id = _get(obj.get("metadata") or {}, "order_id")
    data: dict[str, object] = {"object": obj.get("object"), "object_id": obj.get("id")}
    match obj.get("object"):
        case "checkout.session":
            session_id = str(obj["id"])
            payment_ref = _ref(obj.get("payment_intent"))
            order_id = obj.get("client_reference_id") or order_id
            data.update(amount=obj.get("amount_total"), currency=_upper(obj.get("currency")))
            if raw_type == "checkout.session.completed":
                paid = obj.get("payment_status") in ("paid", "no_payment_required")
                kind = EventType.CHECKOUT_COMPLETED if paid else EventType.OTHER
        case "payment_intent":
            payment_ref = str(obj["id"])
            data.update(amount=obj.get("amount"), currency=_upper(obj.get("currency")))
            error = obj.get("last_payment_error") or {}
            if error:
                data["failure_code"] = error.get("decline_code") or error.get("code")
        case "charge":
            payment_ref = _ref(obj.get("payment_intent"))
            refunded = int(obj.get("amount_refunded") or 0)
            before = int(previous.get("amount_refunded") or 0)
            refunds = obj.get("refunds")
            last = (refunds.get("data") or [None])[0] if isinstance(refunds, Mapping) else None
            data.update(
                amount=refunded - before,
                refunded_amount=refunded,
                charge_amount=obj.get("amount"),
                currency=_upper(obj.get("currency")),
                refund_ref=_ref(last) or "",
                refund_key=_get(
                    _get(last, "metadata") if isinstance(last, Mapping) else None, "refund_key"
                ),
            )
        case "refund":
            payment_ref = _ref(obj.get("payment_intent"))
            status = obj.get("status")
            if raw_type in ("refund.created", "refund.updated", "charge.refund.updated"):
                if status == "succeeded":
                    kind = EventType.REFUND_SUCCEEDED
                elif status in ("failed", "canceled"):
                    kind = EventType.REFUND_FAILED
            data.update(
                refund_key=_get(obj.get("metadata") or {}, "refund_key"),
                refund_ref=obj.get("id"),
                amount=obj.get("amount"),
                currency=_upper(obj.get("currency")),
                status=status,
                failure_reason=obj.get("failure_reason")
                or ("canceled" if status == "canceled" else None),
            )
        case "dispute":
            payment_ref = _ref(obj.get("payment_intent"))
            data.update(amount=obj.get("amount"), currency=_upper(obj.get("currency")))
    created = _at(event.get("created")) or datetime.now(UTC)
    return ProviderEvent(
        event_id=str(event["id"]),
        type=kind,
        created=created,
        session_id=session_id,
        payment_ref=payment_ref,
        order_id=str(order_id) if order_id else None,
        raw_type=raw_type,
        data=data,
    )


def _upper(value: object) -> str | None:
    return str(value).upper() if value else None
