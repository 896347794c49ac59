"""``Idempotency-Key`` the Stripe way, for POSTs that move money or create costly work.

The first request with a key stores its fingerprint (method, path and canonical body) and,
once it is answered, the answer (status and JSON body). The same key with the same request
gets that stored answer again for 24 hours; with another request it is refused (422); while
the first is still being answered a second one is refused (409, try again). Keys are scoped
per caller, so two people's keys never meet.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lms.errors import Conflict, InvalidInput
from persistence.models import IdempotencyKey

KEEP = timedelta(hours=24)
MAX_KEY_LENGTH = 255
HEADER = "Idempotency-Key"


class KeyReused(InvalidInput):
    """The key was used before with another request."""


class KeyInFlight(Conflict):
    """The first request with this key is still being answered."""


@dataclass(frozen=True)
class Stored:
    status_code: int
    body: dict[str, Any]


def fingerprint(method: str, path: str, body: object) -> str:
    """A digest of the request: the same JSON body in any key order gives the same one."""
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(f"{method} {path}\n".encode() + canonical).hexdigest()


def check_key(key: str | None) -> str | None:
    """The header's value, refused when it is empty or too long."""
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters.")
    return key


async def begin(
    session: AsyncSession, scope: str, key: str, print_: str, now: datetime
) -> Stored | IdempotencyKey:
    """The stored answer of an earlier identical request, or the new key's row (flushed in
    ``session``'s transaction: it commits with the work it guards)."""
    row = (
        await session.execute(
            select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        )
    ).scalar_one_or_none()
    if row is not None and row.expires_at <= now:
        await session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id))
        row = None
    if row is not None:
        if row.fingerprint != print_:
            raise KeyReused(
                f"This {HEADER} was used with another request.", reason="idempotency_key_reused"
            )
        if row.status_code is None or row.response is None:
            raise KeyInFlight(
                f"A request with this {HEADER} is still being answered; try again.",
                reason="idempotency_key_in_flight",
            )
        return Stored(row.status_code, row.response)
    return await claim(session, scope, key, print_, now)


async def claim(
    session: AsyncSession, scope: str, key: str, print_: str, now: datetime
) -> IdempotencyKey:
    """The new key's row, for a caller that has just seen no row for it in this transaction
    (``begin`` without its read): flushed, so a concurrent request with the same key waits
    for this transaction and is then refused as in flight (409)."""
    row = IdempotencyKey(
        scope=scope, key=key, fingerprint=print_, created_at=now, expires_at=now + KEEP
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        raise KeyInFlight(
            f"A request with this {HEADER} is still being answered; try again.",
            reason="idempotency_key_in_flight",
        ) from None
    return row


def finish(row: IdempotencyKey, status_code: int, body: dict[str, Any]) -> None:
    """Keep the answer (in the caller's transaction)."""
    row.status_code, row.response = status_code, body


async def keep_answer(
    session: AsyncSession, scope: str, key: str, status_code: int, body: dict[str, Any]
) -> None:
    """``finish`` for a key whose row this session has not loaded: one UPDATE (in the
    caller's transaction)."""
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        .values(status_code=status_code, response=body)
    )


async def purge(session: AsyncSession, now: datetime) -> int:
    """Forget keys older than 24 hours; how many."""
    result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
