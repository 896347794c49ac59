"""The catalogue: products (course, workshop seat, plan), their prices per currency, and
coupons. Finance staff manage it; everyone signed in reads the active products."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.errors import Conflict, InvalidInput, NotFound
from lms.payments.pricing import CouponTerms
from lms.payments.schemas import (
    CouponCreate,
    CouponPatch,
    PriceIn,
    PriceOut,
    ProductCreate,
    ProductOut,
    ProductPatch,
)
from lms.workshops import service as workshops
from persistence.models import Coupon, Course, Price, Product, User


async def _check_target(session: AsyncSession, kind: str, target_id: uuid.UUID | None) -> None:
    if kind == "course":
        if target_id is None or await session.get(Course, target_id) is None:
            raise InvalidInput("No such course.", reason="target")
    elif kind == "workshop" and target_id is not None:
        try:
            await workshops.get(session, target_id)
        except NotFound:
            raise InvalidInput("No such workshop.", reason="target") from None


async def create_product(session: AsyncSession, body: ProductCreate) -> Product:
    """A product with its prices; a course or workshop is sold by one active product."""
    await _check_target(session, body.kind, body.target_id)
    if body.target_id is not None and await product_for(session, body.kind, body.target_id):
        raise Conflict("This is already on sale.", reason="duplicate")
    product = Product(
        kind=body.kind,
        name=body.name,
        target_id=body.target_id,
        period=body.period,
        features=list(body.features),
        active=True,
    )
    session.add(product)
    await session.flush()
    for price in body.prices:
        session.add(Price(product_id=product.id, **price.model_dump()))
    await session.flush()
    return product


async def get_product(session: AsyncSession, product_id: uuid.UUID) -> Product:
    found = await session.get(Product, product_id)
    if found is None:
        raise NotFound("No such product.")
    return found


async def product_for(session: AsyncSession, kind: str, target_id: uuid.UUID) -> Product | None:
    """The active product selling this course or workshop, if any."""
    rows = await session.execute(
        select(Product).where(
            Product.kind == kind, Product.target_id == target_id, Product.active.is_(True)
        )
    )
    return rows.scalars().first()


async def sold(session: AsyncSession, kind: str, target_id: uuid.UUID) -> bool:
    """Whether this course or workshop is for sale at a price (so not to be taken free)."""
    product = await product_for(session, kind, target_id)
    if product is None:
        return False
    top = await session.execute(
        select(func.max(Price.unit_amount)).where(Price.product_id == product.id)
    )
    return bool(top.scalar_one_or_none())


async def prices(session: AsyncSession, product_id: uuid.UUID) -> list[Price]:
    rows = await session.execute(
        select(Price).where(Price.product_id == product_id).order_by(Price.currency)
    )
    return list(rows.scalars())


async def product_out(session: AsyncSession, product: Product) -> ProductOut:
    return ProductOut(
        id=product.id,
        kind=product.kind,
        name=product.name,
        target_id=product.target_id,
        period=product.period,
        features=list(product.features or []),
        active=product.active,
        prices=[PriceOut.model_validate(p) for p in await prices(session, product.id)],
    )


async def list_products(
    session: AsyncSession,
    *,
    kind: str | None,
    target_id: uuid.UUID | None,
    include_inactive: bool,
    after: uuid.UUID | None,
    limit: int,
) -> tuple[list[Product], uuid.UUID | None]:
    query = select(Product)
    if kind is not None:
        query = query.where(Product.kind == kind)
    if target_id is not None:
        query = query.where(Product.target_id == target_id)
    if not include_inactive:
        query = query.where(Product.active.is_(True))
    if after is not None:
        query = query.where(Product.id > after)
    rows = list((await session.execute(query.order_by(Product.id).limit(limit + 1))).scalars())
    more = len(rows) > limit
    return rows[:limit], rows[limit - 1].id if more else None


async def patch_product(
    session: AsyncSession, product_id: uuid.UUID, body: ProductPatch
) -> Product:
    product = await get_product(session, product_id)
    changes = body.model_dump(exclude_none=True)
    reopen = changes.get("active") and product.target_id is not None and not product.active
    if reopen and product.target_id and await product_for(session, product.kind, product.target_id):
        raise Conflict("Another product sells this already.", reason="duplicate")
    for name, value in changes.items():
        setattr(product, name, value)
    await session.flush()
    return product


async def put_price(session: AsyncSession, product_id: uuid.UUID, body: PriceIn) -> Price:
    """Set the product's price in a currency (orders already made keep theirs)."""
    await get_product(session, product_id)
    found = (
        await session.execute(
            select(Price).where(Price.product_id == product_id, Price.currency == body.currency)
        )
    ).scalar_one_or_none()
    if found is None:
        found = Price(product_id=product_id, currency=body.currency)
        session.add(found)
    found.unit_amount = body.unit_amount
    await session.flush()
    return found


async def create_coupon(session: AsyncSession, body: CouponCreate) -> Coupon:
    code = body.code.upper()
    if body.user_id is not None and await session.get(User, body.user_id) is None:
        raise InvalidInput("No such user.", reason="user")
    taken = await session.execute(select(Coupon.id).where(Coupon.code == code))
    if taken.first() is not None:
        raise Conflict("A coupon has this code already.", reason="duplicate")
    coupon = Coupon(
        **body.model_dump(exclude={"code", "product_ids"}),
        code=code,
        product_ids=[str(p) for p in body.product_ids],
        redemptions=0,
        active=True,
    )
    session.add(coupon)
    await session.flush()
    return coupon


async def patch_coupon(session: AsyncSession, coupon_id: uuid.UUID, body: CouponPatch) -> Coupon:
    coupon = await session.get(Coupon, coupon_id)
    if coupon is None:
        raise NotFound("No such coupon.")
    for name, value in body.model_dump(exclude_none=True).items():
        setattr(coupon, name, value)
    await session.flush()
    return coupon


async def list_coupons(
    session: AsyncSession, after: uuid.UUID | None, limit: int
) -> tuple[list[Coupon], uuid.UUID | None]:
    query = select(Coupon)
    if after is not None:
        query = query.where(Coupon.id > after)
    rows = list((await session.execute(query.order_by(Coupon.id).limit(limit + 1))).scalars())
    more = len(rows) > limit
    return rows[:limit], rows[limit - 1].id if more else None


async def coupon_by_code(session: AsyncSession, code: str) -> Coupon:
    found = (
        await session.execute(select(Coupon).where(Coupon.code == code.strip().upper()))
    ).scalar_one_or_none()
    if found is None:
        raise InvalidInput("No such coupon.", reason="unknown_coupon")
    return found


def terms(coupon: Coupon) -> CouponTerms:
    return CouponTerms(
        code=coupon.code,
        percent_off=coupon.percent_off,
        amount_off=coupon.amount_off,
        currency=coupon.currency,
        expires_at=coupon.expires_at,
        product_ids=tuple(coupon.product_ids or ()),
        owner_id=coupon.user_id,
        active=coupon.active,
        max_redemptions=coupon.max_redemptions,
        redemptions=coupon.redemptions,
        per_user_limit=coupon.per_user_limit,
    )


def when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
