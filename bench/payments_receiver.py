"""The webhook ceiling through HTTP, for bench/payments.py: the smallest receiver that does
what issue 21 asks of every webhook endpoint and nothing it lets a ceiling leave out.

Per POST: the raw body read, the Stripe signature and timestamp verified with the SDK's
``WebhookSignature.verify_header`` against each secret in turn (as the node does), the
JSON parsed, then in one transaction the event stored raw (``bare_payment_events``, a
repeat dropped by its unique key) and, when it was new, its order row updated: the same
statements as the bench's bare loop (``bare_webhooks``), whose order it picks the same
way (by the event id). No authentication of users, no order lookup by checkout, no state
machine, no fulfilment, no outbox. One uvicorn process with uvloop and httptools, as the
node; the database pool of the node's size. It runs as its own process so its CPU is
measured alone:

    python bench/payments_receiver.py --port P --database-url URL --secret S [--secret S2]
"""

from __future__ import annotations

import argparse
import json
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import stripe
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PATH = "/api/v1/payments/webhooks/stripe"
TOLERANCE = 300
STORE = text(
    "INSERT INTO bare_payment_events (provider, event_id, type, raw_type, order_id, body,"
    " received_at) VALUES ('stripe', :event_id, 'other', :raw_type, :order_id, :body, :now)"
    " ON CONFLICT DO NOTHING"
)
MOVE = text("UPDATE bare_payment_orders SET status = 'paid' WHERE id = :id")


def order_for(event_id: str, order_ids: list[Any]) -> Any:
    """The bare order an event moves (any fixed choice will do: no lookup)."""
    return order_ids[zlib.crc32(event_id.encode()) % len(order_ids)]


def verified(raw: bytes, header: str, secrets: list[str]) -> bool:
    """Whether one of the secrets signed this body within the tolerance."""
    payload = raw.decode("utf-8")
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=TOLERANCE)
        except stripe.SignatureVerificationError:
            continue
        return True
    return False


def application(database_url: str, secrets: list[str], pool: int) -> Starlette:
    """The receiver's ASGI app on its own engine."""
    engine: AsyncEngine = create_async_engine(database_url, pool_size=pool, max_overflow=0)
    order_ids: list[Any] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT id FROM bare_payment_orders"))
            order_ids.extend(row[0] for row in rows)
        yield
        await engine.dispose()

    async def receive(request: Request) -> JSONResponse:
        raw = await request.body()
        if not verified(raw, request.headers.get("stripe-signature", ""), secrets):
            return JSONResponse({"error": "signature"}, status_code=400)
        event = json.loads(raw)
        async with engine.begin() as connection:
            order_id = order_for(event["id"], order_ids)
            stored = await connection.execute(
                STORE,
                {
                    "event_id": event["id"],
                    "raw_type": event["type"],
                    "order_id": order_id,
                    "body": raw.decode("utf-8"),
                    "now": datetime.now(UTC),
                },
            )
            if stored.rowcount:
                await connection.execute(MOVE, {"id": order_id})
        return JSONResponse({"duplicate": not stored.rowcount})

    return Starlette(routes=[Route(PATH, receive, methods=["POST"])], lifespan=lifespan)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--secret", action="append", required=True)
    parser.add_argument("--pool", type=int, default=10)
    args = parser.parse_args()
    uvicorn.run(
        application(args.database_url, args.secret, args.pool),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        lifespan="on",
    )
