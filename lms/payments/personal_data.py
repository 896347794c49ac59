"""The payments module's part of personal-data export and erasure.

Financial records are kept, as the law requires (orders, refunds, what was paid and when),
but pseudonymised on erasure: the order loses its link to the account and its e-mail
address and keeps only its random buyer pseudonym. Entitlements lose the person too, and
coupons reserved for them stop working.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lms.personal_data import PersonalData
from persistence.models import Coupon, Entitlement, Order, User


async def export_payments(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    """Every order of the user with its amounts and state."""
    rows = await session.execute(
        select(Order).where(Order.user_id == user.id).order_by(Order.created_at, Order.id)
    )
    return [
        {
            "order_id": str(o.id),
            "product": o.product_name,
            "currency": o.currency,
            "subtotal": o.subtotal,
            "discount": o.discount,
            "total": o.total,
            "refunded_amount": o.refunded_amount,
            "status": o.status,
            "email": o.email,
            "created_at": o.created_at.isoformat(),
            "paid_at": o.paid_at.isoformat() if o.paid_at else None,
        }
        for o in rows.scalars()
    ]


async def erase_payments(session: AsyncSession, user: User) -> None:
    """Pseudonymise the user's orders and entitlements; their own coupons end."""
    await session.execute(
        update(Order).where(Order.user_id == user.id).values(user_id=None, email=None)
    )
    await session.execute(
        update(Entitlement).where(Entitlement.user_id == user.id).values(user_id=None)
    )
    await session.execute(update(Coupon).where(Coupon.user_id == user.id).values(active=False))
    await session.flush()


def register(registry: PersonalData) -> None:
    """Add the payments section to the app's personal-data registry."""
    registry.contributes("payments", export=export_payments, erase=erase_payments)
