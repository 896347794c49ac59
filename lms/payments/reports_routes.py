"""Revenue reports for finance staff (``payments:read``): by product and month per currency,
as JSON or CSV (``lms.payments.reports``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from starlette.responses import Response

from lms.auth import Principal
from lms.deps import SessionDep
from lms.errors import InvalidInput
from lms.payments import reports
from lms.permissions import Permission, require
from lms.workshops.schedule import zone  # the IANA zone check the workshops use

router = APIRouter(tags=["payments finance"])
Auditor = Annotated[Principal, Depends(require(Permission.PAYMENTS_READ))]
Month = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", max_length=7)]
MAX_MONTHS = 120


class RevenueRowOut(BaseModel):
    month: str
    product_id: str
    product_name: str
    currency: str
    orders: int
    gross: int
    discounts: int
    refunds: int
    net: int


class RevenueReport(BaseModel):
    first: str
    last: str
    time_zone: str
    items: list[RevenueRowOut]


def _month(value: str) -> date:
    year, month = (int(part) for part in value.split("-"))
    if not 1970 <= year <= 9998:
        raise InvalidInput("Months run from 1970-01 to 9998-12.")
    return date(year, month, 1)


@router.get(
    "/api/v1/payments/reports/revenue",
    summary="Revenue by product and month",
    response_model=RevenueReport,
    responses={200: {"content": {"text/csv": {}}}},
)
async def revenue(
    session: SessionDep,
    _: Auditor,
    first: Month,
    last: Month,
    tz: Annotated[str, Query(max_length=64)] = "UTC",
    format: Literal["json", "csv"] = "json",
) -> RevenueReport | Response:
    """Months ``first`` to ``last`` (``YYYY-MM``, both included, at most 120) in time zone
    ``tz``: a row per month, product and currency with orders paid, gross, discounts,
    refunds booked that month and net, in minor units. ``format=csv`` downloads it."""
    start, end, tz_info = _month(first), _month(last), zone(tz)
    if end < start:
        raise InvalidInput("last must not come before first.")
    if (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
        raise InvalidInput(f"A report covers at most {MAX_MONTHS} months.")
    rows = await reports.revenue(session, start, end, tz_info)
    if format == "csv":
        return Response(
            reports.to_csv(rows).encode(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="revenue-{first}-{last}.csv"'},
        )
    return RevenueReport(
        first=first,
        last=last,
        time_zone=tz,
        items=[RevenueRowOut.model_validate(row, from_attributes=True) for row in rows],
    )
