"""One purchase at a time: a buyer cannot open a second order for what they already own or
are already paying for.

What counts as "the same thing" is the course or workshop sold, not the product row (a
product taken off sale and a new one for the same workshop); a plan is its own product. An
order that owns it (``paid``, ``fulfilled``, ``partially_refunded``) refuses a new one with
409 ``owned`` (plans excepted: buying a plan again renews it); an order still open
(``pending``, or ``failed``: its checkout takes another attempt) refuses it with 409
``pending`` naming that order and its checkout, so a second order can never hold a second
seat (a waitlist offer's seat included) nor charge twice. Two requests at once (different
``Idempotency-Key``s) are made to queue: the buyer's user row is locked first, in the
order's transaction, so the second one sees the first one's order (a replay with the same
key is answered before this, with the stored answer)."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Select, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lms.errors import Conflict
from persistence.models import Order, Product, User

OWNING = ("paid", "fulfilled", "partially_refunded")
OPEN = ("pending", "failed")


LOCK_BUYER = (
    update(User)
    .where(User.id == bindparam("user_id"))
    .values(updated_at=User.updated_at)
    .execution_options(synchronize_session=False)  # a lock: nothing changes
)


def _orders(by_target: bool, plan: bool) -> Select[uuid.UUID, str, str | None]:
    """The buyer's orders that refuse a new one: for any product that sells the same
    course or seat (a retired one too) when ``by_target``, else for the product itself."""
    which: ColumnElement[bool] = Order.product_id == bindparam("product_id")
    if by_target:
        same = select(Product.id).where(
            Product.kind == bindparam("kind"), Product.target_id == bindparam("target_id")
        )
        which = Order.product_id.in_(same)
    return (
        select(Order.id, Order.status, Order.checkout_url)
        .where(
            Order.user_id == bindparam("user_id"),
            which,
            Order.status.in_(OPEN if plan else OPEN + OWNING),
        )
        .order_by(Order.created_at.desc(), Order.id)
    )


ORDERS = {(t, p): _orders(t, p) for t in (False, True) for p in (False, True)}
"""The four variants, built once (each buyer who gets this far runs one)."""


async def refuse_duplicate(session: AsyncSession, user_id: uuid.UUID, product: Product) -> None:
    """409 when ``user_id`` owns ``product``'s course or seat, or has an open order for it;
    holds the buyer's row lock until the caller's transaction ends."""
    await session.execute(LOCK_BUYER, {"user_id": user_id})
    query = ORDERS[(product.target_id is not None, product.kind == "plan")]
    rows = await session.execute(
        query,
        {
            "user_id": user_id,
            "product_id": product.id,
            "kind": product.kind,
            "target_id": product.target_id,
        },
    )
    found = list(rows.all())
    for order_id, status, _ in found:
        if status in OWNING:
            raise Conflict("You have bought this already.", reason="owned", order_id=str(order_id))
    if found:
        order_id, _, checkout_url = found[0]
        raise Conflict(
            "You already have an order for this waiting to be paid: pay it, or wait until "
            "it expires to order again.",
            reason="pending",
            order_id=str(order_id),
            checkout_url=checkout_url,
        )
