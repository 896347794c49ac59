"""The offline provider's wire format: how its webhooks are signed and verified (Stripe's
scheme: HMAC-SHA256 over ``timestamp.body``, header ``Liveclass-Signature: t=...,v1=...``,
several ``v1`` during a secret rotation, a tolerance on the timestamp) and what an event's
JSON says (``event_body`` builds one, ``parse_event`` reads one into our normalised event).
No I/O: the provider (offline.py) and the tests that forge or replay webhooks share it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from lms.payments.provider import (
    EventType,
    InvalidSignature,
    MalformedEvent,
    ProviderEvent,
    StaleTimestamp,
)
from persistence.models import OfflineSession

SIGNATURE_HEADER = "liveclass-signature"
WEBHOOK_PATH = "/api/v1/payments/webhooks/offline"


def derived_secret(secret_key: str) -> str:
    """The webhook secret when none is configured: derived from the node's secret."""
    digest = hmac.new(secret_key.encode(), b"payments-offline-webhook", hashlib.sha256)
    return "whsec_" + digest.hexdigest()


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The ``Liveclass-Signature`` value of ``body`` at ``timestamp`` (Stripe's scheme)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    body: bytes, header: str | None, secrets_: Sequence[str], now: datetime, tolerance: int
) -> None:
    """Check ``header`` signs ``body`` with one of ``secrets_`` within ``tolerance`` s."""
    if not header or len(header) > 2000:
        raise InvalidSignature("No signature header.")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit() and len(value) < 16:
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise InvalidSignature("The signature header is malformed.")
    signed = f"{timestamp}.".encode() + body
    expected = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest().encode() for s in secrets_]
    if not any(
        hmac.compare_digest(e, given.encode("ascii", "replace"))
        for e in expected
        for given in signatures
    ):
        raise InvalidSignature("No webhook secret matches the signature.")
    if abs(now.timestamp() - timestamp) > tolerance:
        raise StaleTimestamp("The signed timestamp is outside the tolerance window.")


def _as_datetime(value: object) -> datetime:
    if isinstance(value, int | float) and 0 <= value < 2**40:
        return datetime.fromtimestamp(value, UTC)
    raise MalformedEvent("The event's time is not a timestamp.")


def parse_event(body: bytes) -> ProviderEvent:
    """Our normalised event from a (verified) offline webhook body."""
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedEvent("The body is not JSON.") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("data"), dict):
        raise MalformedEvent("The body is not an event.")
    event_id, kind, data = raw.get("id"), raw.get("type"), raw["data"]
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 255:
        raise MalformedEvent("The event has no id.")
    try:
        normalised = EventType(str(kind))
    except ValueError:
        normalised = EventType.OTHER

    def text(name: str) -> str | None:
        value = data.get(name)
        return value if isinstance(value, str) and len(value) <= 255 else None

    if normalised in (EventType.REFUND_SUCCEEDED, EventType.REFUND_FAILED):
        # Our events carry the payment's amount as ``amount`` and this refund's as ``refund``;
        # the interface's refund events carry this refund's as ``amount``.
        data = {**data, "amount": data.get("refund")}
    return ProviderEvent(
        event_id=event_id,
        type=normalised,
        created=_as_datetime(raw.get("created")),
        session_id=text("session_id"),
        payment_ref=text("payment_ref"),
        order_id=text("order_id"),
        raw_type=str(kind)[:100],
        data=data,
    )


def event_body(kind: EventType, row: OfflineSession, **extra: Any) -> dict[str, Any]:
    """An offline webhook event about ``row``."""
    return {
        "id": "evt_" + secrets.token_urlsafe(18),
        "type": kind.value,
        "created": int(time.time()),
        "data": {
            "session_id": row.id,
            "order_id": row.order_id,
            "payment_ref": row.payment_ref,
            "amount": row.amount,
            "currency": row.currency,
            "refunded_amount": row.refunded_amount,
            **extra,
        },
    }
