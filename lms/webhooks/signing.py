"""Standard Webhooks signing, sans-I/O: secrets and the three ``webhook-*`` headers.

A secret is ``whsec_`` + base64 of 32 random bytes; the HMAC key is those bytes. The
signature of a message is ``v1,`` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))
and ``webhook-signature`` lists one per valid secret, space-separated (two while a rotated
secret is still honoured), so a receiver holding either secret verifies the request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping

PREFIX = "whsec_"
KEY_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret, ``whsec_<base64>``."""
    return PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def key_of(secret: str) -> bytes:
    """The HMAC key a ``whsec_`` secret stands for (ValueError if it is not one)."""
    if not secret.startswith(PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        return base64.b64decode(secret[len(PREFIX) :], validate=True)
    except binascii.Error:
        raise ValueError("a webhook secret is whsec_ followed by base64") from None


def signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``{id}.{timestamp}.{body}`` under ``secret``."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key_of(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(
    secrets_: Iterable[str], webhook_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The headers of one attempt: id, timestamp (Unix seconds) and one signature per
    secret, space-separated."""
    signatures = " ".join(signature(s, webhook_id, timestamp, body) for s in secrets_)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
    }


def verify(
    secret: str, received: Mapping[str, str], body: bytes, *, now: int, tolerance: int = 300
) -> bool:
    """Whether a request carries a valid signature under ``secret`` and a timestamp within
    ``tolerance`` seconds of ``now`` (what a receiver does; used by the docs' example)."""
    try:
        timestamp = int(received["webhook-timestamp"])
        expected = signature(secret, received["webhook-id"], timestamp, body)
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    offered = received.get("webhook-signature", "").split()
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)
