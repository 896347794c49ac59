"""Payments REST for finance staff (the ``finance`` role, and admins): products, prices and
coupons; every order; refunds (with ``Idempotency-Key``); the webhooks received. Every
money action is audited."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import select
from starlette.responses import Response

from lms import idempotency
from lms.audit.service import audit
from lms.auth import Principal
from lms.deps import CourseEventsDep, SessionDep
from lms.errors import Conflict
from lms.pagination import (
    decode_cursor,
    decode_key_cursor,
    encode_cursor,
    encode_key_cursor,
    link_next,
)
from lms.payments import catalogue, orders, refunds
from lms.payments.provider import ProviderError, ProviderRefund
from lms.payments.routes import KeyHeader, ProviderDep
from lms.payments.schemas import (
    CouponCreate,
    CouponOut,
    CouponPage,
    CouponPatch,
    FinanceOrderOut,
    FinanceOrderPage,
    PaymentEventOut,
    PaymentEventPage,
    PriceIn,
    PriceOut,
    ProductCreate,
    ProductOut,
    ProductPage,
    ProductPatch,
    RefundCreate,
    RefundOut,
)
from lms.permissions import Permission, require
from persistence.models import PaymentEvent
from persistence.models.base import utcnow

router = APIRouter(tags=["payments finance"])
Manager = Annotated[Principal, Depends(require(Permission.PAYMENTS_MANAGE))]
Auditor = Annotated[Principal, Depends(require(Permission.PAYMENTS_READ))]
Refunder = Annotated[Principal, Depends(require(Permission.PAYMENTS_REFUND))]
Cursor = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=200)]
OrderStatus = Literal[
    "pending", "paid", "fulfilled", "partially_refunded", "refunded", "failed", "expired"
]


@router.post(
    "/api/v1/payments/products", status_code=status.HTTP_201_CREATED, summary="Sell something"
)
async def create_product(
    body: ProductCreate, request: Request, session: SessionDep, principal: Manager
) -> ProductOut:
    product = await catalogue.create_product(session, body)
    audit(
        session,
        request,
        "payments.product.create",
        target_type="product",
        target_id=product.id,
        prices={p.currency: p.unit_amount for p in body.prices},
    )
    out = await catalogue.product_out(session, product)
    await session.commit()
    return out


@router.get("/api/v1/payments/finance/products", summary="Every product (inactive too)")
async def all_products(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Auditor,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ProductPage:
    rows, after = await catalogue.list_products(
        session,
        kind=None,
        target_id=None,
        include_inactive=True,
        after=decode_key_cursor(cursor),
        limit=limit,
    )
    following = encode_key_cursor(after) if after is not None else None
    link_next(request, response, following)
    return ProductPage(
        items=[await catalogue.product_out(session, p) for p in rows], next=following
    )


@router.patch("/api/v1/payments/products/{product_id}", summary="Change a product")
async def patch_product(
    product_id: uuid.UUID,
    body: ProductPatch,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> ProductOut:
    product = await catalogue.patch_product(session, product_id, body)
    audit(
        session,
        request,
        "payments.product.update",
        target_type="product",
        target_id=product.id,
        **body.model_dump(exclude_none=True),
    )
    out = await catalogue.product_out(session, product)
    await session.commit()
    return out


@router.put("/api/v1/payments/products/{product_id}/prices", summary="Set a price")
async def put_price(
    product_id: uuid.UUID, body: PriceIn, request: Request, session: SessionDep, principal: Manager
) -> PriceOut:
    """The product's price in a currency (added or changed; orders made keep theirs)."""
    price = await catalogue.put_price(session, product_id, body)
    audit(
        session,
        request,
        "payments.price.set",
        target_type="product",
        target_id=product_id,
        currency=body.currency,
        unit_amount=body.unit_amount,
    )
    out = PriceOut.model_validate(price)
    await session.commit()
    return out


@router.post(
    "/api/v1/payments/coupons", status_code=status.HTTP_201_CREATED, summary="Create a coupon"
)
async def create_coupon(
    body: CouponCreate, request: Request, session: SessionDep, principal: Manager
) -> CouponOut:
    coupon = await catalogue.create_coupon(session, body)
    audit(
        session,
        request,
        "payments.coupon.create",
        target_type="coupon",
        target_id=coupon.id,
        code=coupon.code,
    )
    out = CouponOut.model_validate(coupon)
    await session.commit()
    return out


@router.get("/api/v1/payments/coupons", summary="Coupons")
async def list_coupons(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Manager,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> CouponPage:
    rows, after = await catalogue.list_coupons(session, decode_key_cursor(cursor), limit)
    following = encode_key_cursor(after) if after is not None else None
    link_next(request, response, following)
    return CouponPage(items=[CouponOut.model_validate(c) for c in rows], next=following)


@router.patch("/api/v1/payments/coupons/{coupon_id}", summary="Change a coupon")
async def patch_coupon(
    coupon_id: uuid.UUID,
    body: CouponPatch,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> CouponOut:
    coupon = await catalogue.patch_coupon(session, coupon_id, body)
    audit(
        session,
        request,
        "payments.coupon.update",
        target_type="coupon",
        target_id=coupon.id,
        **body.model_dump(exclude_none=True, mode="json"),
    )
    out = CouponOut.model_validate(coupon)
    await session.commit()
    return out


@router.get("/api/v1/payments/finance/orders", summary="Every order")
async def all_orders(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Auditor,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> FinanceOrderPage:
    rows, after = await orders.mine(session, None, status_, decode_key_cursor(cursor), limit)
    following = encode_key_cursor(after) if after is not None else None
    link_next(request, response, following)
    return FinanceOrderPage(items=[FinanceOrderOut.model_validate(o) for o in rows], next=following)


@router.get("/api/v1/payments/finance/orders/{order_id}", summary="One order, as finance sees it")
async def finance_order(
    order_id: uuid.UUID, session: SessionDep, principal: Auditor
) -> FinanceOrderOut:
    """The order with its provider references (checkout session, payment) and buyer
    pseudonym; its stored provider events are ``GET /api/v1/payments/events?order_id=``."""
    return FinanceOrderOut.model_validate(await orders.visible(session, order_id, principal))


@router.get("/api/v1/payments/orders/{order_id}/refunds", summary="An order's refunds")
async def list_refunds(
    order_id: uuid.UUID, session: SessionDep, principal: Auditor
) -> list[RefundOut]:
    await orders.visible(session, order_id, principal)
    return [RefundOut.model_validate(r) for r in await refunds.of_order(session, order_id)]


@router.post(
    "/api/v1/payments/orders/{order_id}/refunds",
    status_code=status.HTTP_201_CREATED,
    summary="Refund (full or partial)",
)
async def refund(
    order_id: uuid.UUID,
    body: RefundCreate,
    request: Request,
    session: SessionDep,
    provider: ProviderDep,
    course_events: CourseEventsDep,
    principal: Refunder,
    idempotency_key: KeyHeader = None,
) -> Any:
    """Give money back through the provider (``amount`` none: all that is left). A full
    refund revokes the entitlement; a partial one keeps it. Never more than was paid less
    what was refunded (422)."""
    now = utcnow()
    key = idempotency.check_key(idempotency_key)
    row = None
    if key is not None:
        print_ = idempotency.fingerprint("POST", request.url.path, body.model_dump(mode="json"))
        got = await idempotency.begin(session, f"user:{principal.user_id}", key, print_, now)
        if isinstance(got, idempotency.Stored):
            await session.commit()
            return JSONResponse(got.body, status_code=got.status_code)
        row = got
    order, pending = await refunds.begin(session, order_id, body, principal.user_id, now)
    payment_ref, currency, amount = order.payment_ref, order.currency, pending.amount
    audit(
        session,
        request,
        "payments.refund.request",
        target_type="order",
        target_id=order.id,
        refund_id=str(pending.id),
        amount=amount,
        currency=currency,
        reason=body.reason,
    )
    await session.commit()
    assert payment_ref is not None
    error: str | None = None
    result: ProviderRefund | None = None
    try:
        result = await provider.refund(
            payment_ref, amount, currency, f"refund-{pending.id}", body.reason
        )
    except ProviderError as exc:
        error = str(exc)[:200]
    order, done = await refunds.settle(session, pending.id, result, utcnow(), course_events)
    audit(
        session,
        request,
        "payments.refund",
        target_type="order",
        target_id=order.id,
        outcome="success" if done.status == "succeeded" else "failure",
        refund_id=str(done.id),
        amount=done.amount,
        currency=done.currency,
        order_status=order.status,
        error=error,
    )
    if done.status != "succeeded":
        await session.commit()
        said = f"The provider refused the refund: {error}" if error else "The refund failed."
        raise Conflict(said, reason="provider", failure_reason=done.failure_reason)
    out = RefundOut.model_validate(done).model_dump(mode="json")
    if row is not None:
        row = await session.merge(row)
        idempotency.finish(row, status.HTTP_201_CREATED, out)
    await session.commit()
    return JSONResponse(out, status_code=status.HTTP_201_CREATED)


@router.get("/api/v1/payments/events", summary="Webhooks received")
async def list_events(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Auditor,
    flagged: bool = False,
    order_id: uuid.UUID | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> PaymentEventPage:
    """Every provider event as stored, oldest first (``flagged``: only those that need a
    look, e.g. for an unknown order; ``order_id``: only one order's)."""
    query = select(PaymentEvent)
    if order_id is not None:
        query = query.where(PaymentEvent.order_id == order_id)
    if flagged:
        query = query.where(PaymentEvent.flag.is_not(None))
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(PaymentEvent.id > after)
    rows = list((await session.execute(query.order_by(PaymentEvent.id).limit(limit + 1))).scalars())
    following = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    link_next(request, response, following)
    return PaymentEventPage(
        items=[PaymentEventOut.model_validate(r) for r in rows[:limit]], next=following
    )
