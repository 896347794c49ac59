"""Revenue reports: by product and month, one row per currency (never summed across them).

For each month (in the report's IANA time zone, UTC by default), product and currency:
``orders`` paid that month (the order's ``paid_at``), ``gross`` (what they paid, after
discounts), ``discounts`` (what coupons took off), ``refunds`` (refunds that succeeded that
month, whatever month the order was paid in: money is booked when it moves) and
``net = gross - refunds``. Amounts are integer minor units with the ISO currency beside them.

The CSV is for spreadsheets: one header row, the same columns; a product name that a
spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``, tab, CR) gets a leading ``'``.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models.base import as_utc
from persistence.models.payments import Order, Refund

MONEY_TAKEN = ("paid", "fulfilled", "partially_refunded", "refunded")
COLUMNS = (
    "month",
    "product_id",
    "product_name",
    "currency",
    "orders",
    "gross",
    "discounts",
    "refunds",
    "net",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(slots=True)
class RevenueRow:
    month: str  # YYYY-MM in the report's time zone
    product_id: str
    product_name: str
    currency: str
    orders: int = 0
    gross: int = 0
    discounts: int = 0
    refunds: int = 0
    net: int = 0


def month_start(month: date, zone: ZoneInfo) -> datetime:
    """Midnight of the month's first day in ``zone``, in UTC."""
    return datetime(month.year, month.month, 1, tzinfo=zone).astimezone(UTC)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _month_of(moment: datetime, zone: ZoneInfo) -> str:
    return as_utc(moment).astimezone(zone).strftime("%Y-%m")


async def revenue(
    session: AsyncSession, first: date, last: date, zone: ZoneInfo = ZoneInfo("UTC")
) -> list[RevenueRow]:
    """Rows for the months ``first`` .. ``last`` (both included), sorted by month, product
    name, product id and currency."""
    start, end = month_start(first, zone), month_start(next_month(last), zone)
    rows: dict[tuple[str, uuid.UUID, str], RevenueRow] = {}

    def row(month: str, product_id: uuid.UUID, name: str, currency: str) -> RevenueRow:
        key = (month, product_id, currency)
        found = rows.get(key)
        if found is None:
            found = rows[key] = RevenueRow(month, str(product_id), name, currency)
        return found

    paid = await session.execute(
        select(
            Order.paid_at,
            Order.product_id,
            Order.product_name,
            Order.currency,
            Order.total,
            Order.discount,
        ).where(
            Order.status.in_(MONEY_TAKEN),
            Order.paid_at >= start,
            Order.paid_at < end,
        )
    )
    for paid_at, product_id, name, currency, total, discount in paid.tuples():
        if paid_at is None:  # not possible: the query asks for a paid_at in range
            continue
        entry = row(_month_of(paid_at, zone), product_id, name, currency)
        entry.orders += 1
        entry.gross += total
        entry.discounts += discount
    refunded = await session.execute(
        select(
            Refund.created_at,
            Order.product_id,
            Order.product_name,
            Refund.currency,
            Refund.amount,
        )
        .join(Order, Order.id == Refund.order_id)
        .where(Refund.status == "succeeded", Refund.created_at >= start, Refund.created_at < end)
    )
    for at, product_id, name, currency, amount in refunded.tuples():
        row(_month_of(at, zone), product_id, name, currency).refunds += amount
    for entry in rows.values():
        entry.net = entry.gross - entry.refunds
    return sorted(rows.values(), key=lambda r: (r.month, r.product_name, r.product_id, r.currency))


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(rows: Iterable[RevenueRow]) -> str:
    """The report as CSV text (a header row, then one line per row)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry in rows:
        values = asdict(entry)
        writer.writerow([_cell(values[name]) for name in COLUMNS])
    return out.getvalue()
