"""Payments REST for buyers: the catalogue, orders and checkout (with ``Idempotency-Key``),
receipts, entitlements; and the providers' webhooks in.

Everyone signed in reads the active catalogue and buys; an order is only its buyer's (and
finance staff's) to see; someone else's is a 404. Webhooks are public: the provider's
signature on the raw body is their access rule.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import Response

from lms import idempotency
from lms.audit.service import audit
from lms.auth import Principal
from lms.deps import (
    CourseEventsDep,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    WriterSessionsDep,
)
from lms.errors import LmsError, NotFound, Unavailable
from lms.pagination import decode_key_cursor, encode_key_cursor, link_next
from lms.payments import catalogue, fulfilment, inbound, orders, precheck
from lms.payments.provider import PaymentProvider, ProviderError, WebhookError
from lms.payments.receipts import receipt
from lms.payments.retry import in_transaction
from lms.payments.schemas import (
    EntitlementOut,
    EntitlementsOut,
    OrderCreate,
    OrderOut,
    OrderPage,
    ProductOut,
    ProductPage,
    ReceiptOut,
    WebhookAck,
)
from lms.permissions import Permission, require, require_reading
from ops.guards import public
from persistence.models import IdempotencyKey, Order
from persistence.models.base import utcnow

router = APIRouter(tags=["payments"])
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
ReadingBuyer = Annotated[Principal, Depends(require_reading(Permission.COURSES_MANAGE))]
Cursor = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=200)]
KeyHeader = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]


async def payment_provider(request: Request) -> PaymentProvider:
    """The app's payment provider (built from the settings at start-up); a coroutine, so
    FastAPI does not hop to its thread pool and back for it on every request."""
    provider: PaymentProvider = request.app.state.payment_provider
    return provider


ProviderDep = Annotated[PaymentProvider, Depends(payment_provider)]


def _same_database(session: AsyncSession, sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Whether ``session`` (a reader) is bound where ``sessions`` write: PostgreSQL's
    readers and writers share one engine; SQLite's reader is a read-only engine of its own."""
    return session.bind is not None and session.bind is sessions.kw.get("bind")


def base_url(request: Request, public_url: str) -> str:
    return (public_url or str(request.base_url)).rstrip("/")


@router.get("/api/v1/payments/products", summary="The catalogue")
async def list_products(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    kind: Literal["course", "workshop", "plan"] | None = None,
    target_id: uuid.UUID | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ProductPage:
    """Active products with their prices (filter by kind, or by the course or workshop)."""
    rows, after = await catalogue.list_products(
        session,
        kind=kind,
        target_id=target_id,
        include_inactive=False,
        after=decode_key_cursor(cursor),
        limit=limit,
    )
    following = encode_key_cursor(after) if after is not None else None
    link_next(request, response, following)
    items = [await catalogue.product_out(session, p) for p in rows]
    return ProductPage(items=items, next=following)


@router.get("/api/v1/payments/products/{product_id}", summary="One product")
async def get_product(product_id: uuid.UUID, session: SessionDep, principal: Reader) -> ProductOut:
    product = await catalogue.get_product(session, product_id)
    if not product.active:
        raise NotFound("No such product.")
    return await catalogue.product_out(session, product)


@router.post(
    "/api/v1/payments/orders",
    status_code=status.HTTP_201_CREATED,
    summary="Order and check out",
    responses={200: {"description": "A stored answer replayed (Idempotency-Key)."}},
)
async def create_order(
    body: OrderCreate,
    request: Request,
    reader: ReadSessionDep,
    sessions: WriterSessionsDep,
    settings: SettingsDep,
    provider: ProviderDep,
    principal: ReadingBuyer,
    idempotency_key: KeyHeader = None,
) -> Any:
    """Price the product on the server (a coupon applied), hold a limited seat while the
    buyer pays and open the provider's checkout (``checkout_url``). A free order is paid at
    once. The same ``Idempotency-Key`` with the same body gets the same answer."""
    # Authenticated through a reader: the writes below are short transactions of their own,
    # retried on a lock conflict (on SQLite a burst of buyers queues for the write lock). On
    # one database (PostgreSQL) the first try is made in the reader's session: its connection
    # is held already, and a burst of buyers would otherwise queue for another one behind
    # every other buyer, all reading the seats before any of them took one.
    first = reader if _same_database(reader, sessions) else None
    if first is None:
        await reader.close()
    key = idempotency.check_key(idempotency_key)
    scope = f"user:{principal.user_id}"
    print_ = idempotency.fingerprint("POST", request.url.path, body.model_dump(mode="json"))

    async def open_order(session: AsyncSession) -> idempotency.Stored | Order:
        now = utcnow()
        seen = await precheck.look(
            session,
            product_id=body.product_id,
            currency=body.currency,
            user_id=principal.user_id,
            scope=scope,
            key=key,
            now=now,
        )  # a buyer who cannot have a seat is refused here (409), having written nothing
        if key is not None:
            got: idempotency.Stored | IdempotencyKey = (
                await idempotency.begin(session, scope, key, print_, now)
                if seen.key_seen or seen.product is None
                else await idempotency.claim(session, scope, key, print_, now)
            )
            if isinstance(got, idempotency.Stored):
                return got
        started = await orders.start(
            session, principal, body, now, settings.payments_checkout_minutes, seen
        )
        order = started.order
        audit(
            session,
            request,
            "payments.order.create",
            actor=principal,
            target_type="order",
            target_id=order.id,
            product_id=str(order.product_id),
            total=order.total,
            currency=order.currency,
            coupon=body.coupon,
        )
        await orders.hold(session, started)  # last: the workshop's row is locked till commit
        return order

    opened = await in_transaction(sessions, open_order, first=first)
    if isinstance(opened, idempotency.Stored):
        return JSONResponse(opened.body, status_code=opened.status_code)
    order = opened
    if order.status == "pending":
        try:
            checkout = await provider.create_checkout(
                orders.checkout_request(order, base_url(request, settings.public_url))
            )
        except ProviderError as exc:
            error = str(exc)[:200]

            async def give_up(session: AsyncSession) -> None:
                await orders.abandon(session, order.id, utcnow())
                audit(
                    session,
                    request,
                    "payments.order.abandon",
                    actor=principal,
                    target_type="order",
                    target_id=order.id,
                    outcome="failure",
                    error=error,
                )
                if key is not None:  # the same key may try again
                    await session.execute(
                        delete(IdempotencyKey).where(
                            IdempotencyKey.scope == scope, IdempotencyKey.key == key
                        )
                    )

            await in_transaction(sessions, give_up)
            raise Unavailable("The payment provider could not open a checkout; try again.") from exc
    else:
        checkout = None

    async def answer(session: AsyncSession) -> dict[str, Any]:
        found = (
            await orders.attach(session, order.id, checkout)
            if checkout is not None
            else await session.get(Order, order.id)
        )
        out = OrderOut.model_validate(found).model_dump(mode="json")
        if key is not None:
            await idempotency.keep_answer(session, scope, key, status.HTTP_201_CREATED, out)
        return out

    out = await in_transaction(sessions, answer)
    return JSONResponse(out, status_code=status.HTTP_201_CREATED)


@router.get("/api/v1/payments/orders", summary="My orders")
async def my_orders(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> OrderPage:
    rows, after = await orders.mine(
        session, principal.user_id, None, decode_key_cursor(cursor), limit
    )
    following = encode_key_cursor(after) if after is not None else None
    link_next(request, response, following)
    return OrderPage(items=[OrderOut.model_validate(o) for o in rows], next=following)


@router.get("/api/v1/payments/orders/{order_id}", summary="One order")
async def get_order(order_id: uuid.UUID, session: SessionDep, principal: Reader) -> OrderOut:
    return OrderOut.model_validate(await orders.visible(session, order_id, principal))


@router.get("/api/v1/payments/orders/{order_id}/receipt", summary="A printable receipt")
async def get_receipt(order_id: uuid.UUID, session: SessionDep, principal: Reader) -> ReceiptOut:
    order = await orders.visible(session, order_id, principal)
    if order.paid_at is None:
        raise NotFound("This order has no receipt: it was not paid.")
    return await receipt(session, order)


@router.get("/api/v1/payments/entitlements", summary="My entitlements and plan features")
async def my_entitlements(session: SessionDep, principal: Reader) -> EntitlementsOut:
    now = utcnow()
    rows, features = await fulfilment.active_features(session, principal.user_id, now)
    items = []
    for row in rows:
        item = EntitlementOut.model_validate(row)
        item.active = fulfilment.is_active(row, now)
        items.append(item)
    return EntitlementsOut(items=items, features=features)


@router.post(
    "/api/v1/payments/webhooks/{provider_name}",
    dependencies=[Depends(public)],
    summary="A payment provider's webhook",
    responses={202: {"description": "Stored, but for no known order (flagged)."}},
)
async def webhook(
    provider_name: Annotated[str, Path(max_length=40)],
    request: Request,
    session: SessionDep,
    provider: ProviderDep,
    course_events: CourseEventsDep,
) -> Any:
    """Verify the signature and timestamp on the raw body, store the event (once per
    provider event id) and move the order's state; 400 for a forged or stale one."""
    if provider_name != provider.name:
        raise NotFound("No such payment provider here.")
    raw = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    now = utcnow()
    try:
        event = provider.verify_webhook(raw, headers, now)
    except WebhookError as exc:
        raise LmsError(str(exc), reason=type(exc).__name__) from None
    got = await inbound.receive(session, provider.name, event, raw, now, course_events)
    await session.commit()
    if got.reread is not None:
        got.outcome = await inbound.reread(session, provider, got.reread, now, course_events)
    ack = WebhookAck(duplicate=got.duplicate, outcome=got.outcome, flag=got.flag)
    code = status.HTTP_202_ACCEPTED if got.flag == "unknown_order" else status.HTTP_200_OK
    return JSONResponse(ack.model_dump(), status_code=code)
