"""Reconciliation for finance staff (``payments:read``): the runs (nightly and on demand)
and the differences each found (``lms.payments.reconcile``). Starting a run is audited."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict
from sqlalchemy import select

from lms.audit.service import audit
from lms.auth import Principal
from lms.deps import SessionDep, WriterSessionsDep
from lms.errors import InvalidInput, NotFound
from lms.pagination import decode_cursor, encode_cursor, link_next
from lms.payments import reconcile
from lms.payments.routes import ProviderDep
from lms.permissions import Permission, require, require_reading
from persistence.models.payment_reconcile import ReconcileDifference, ReconcileRun

router = APIRouter(tags=["payments finance"])
Auditor = Annotated[Principal, Depends(require(Permission.PAYMENTS_READ))]
# starting a run writes in short transactions of its own (none held while Stripe answers)
Runner = Annotated[Principal, Depends(require_reading(Permission.PAYMENTS_READ))]
RunId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # an Integer key
Cursor = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=200)]
PREFIX = "/api/v1/payments/reconciliation/runs"


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: AwareDatetime
    until: AwareDatetime


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    provider: str
    trigger: str
    window_start: datetime
    window_end: datetime
    status: str
    orders_checked: int
    provider_payments: int
    differences: int
    error: str | None
    started_at: datetime
    finished_at: datetime | None


class RunPage(BaseModel):
    items: list[RunOut]
    next: str | None


class DifferenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    order_id: uuid.UUID | None
    session_id: str | None
    payment_ref: str | None
    currency: str | None
    ours_amount: int | None
    theirs_amount: int | None
    ours: dict[str, Any]
    theirs: dict[str, Any]


class DifferencePage(BaseModel):
    items: list[DifferenceOut]
    next: str | None


@router.post(PREFIX, status_code=status.HTTP_201_CREATED, summary="Reconcile a window now")
async def start_run(
    request: Request,
    principal: Runner,
    provider: ProviderDep,
    sessions: WriterSessionsDep,
    body: RunIn,
) -> RunOut:
    """Compare our orders and refunds with the provider's payments created in
    ``[since, until)`` (at most 31 days); the run and its differences are stored and the run
    is audited. A run the provider could not answer is stored as ``failed``."""
    if body.until <= body.since:
        raise InvalidInput("until must come after since.")
    if body.until - body.since > reconcile.MAX_WINDOW:
        raise InvalidInput("A reconciliation window is at most 31 days.")
    if body.since.year < 1970 or body.until.year > 9998:
        raise InvalidInput("The window must lie between 1970 and 9998.")
    record = await reconcile.run(sessions, provider, body.since, body.until, trigger="manual")
    async with sessions() as session:
        audit(
            session,
            request,
            "payments.reconcile",
            actor=principal,
            target_type="payment_reconcile_run",
            target_id=record.id,
            outcome="success" if record.status != "failed" else "failure",
            **reconcile.run_summary(record),
        )
        await session.commit()
    return RunOut.model_validate(record)


@router.get(PREFIX, summary="Reconciliation runs")
async def list_runs(
    request: Request,
    response: Response,
    session: SessionDep,
    _: Auditor,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> RunPage:
    """Newest first; page on with ``next`` (or the Link header)."""
    query = select(ReconcileRun).order_by(ReconcileRun.id.desc()).limit(limit + 1)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(ReconcileRun.id < after)
    rows = list((await session.execute(query)).scalars())
    following = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    link_next(request, response, following)
    return RunPage(items=[RunOut.model_validate(r) for r in rows[:limit]], next=following)


@router.get(PREFIX + "/{run_id}", summary="One reconciliation run")
async def read_run(session: SessionDep, _: Auditor, run_id: RunId) -> RunOut:
    record = await session.get(ReconcileRun, run_id)
    if record is None:
        raise NotFound("No such reconciliation run.")
    return RunOut.model_validate(record)


@router.get(PREFIX + "/{run_id}/differences", summary="What a reconciliation run found")
async def list_differences(
    request: Request,
    response: Response,
    session: SessionDep,
    _: Auditor,
    run_id: RunId,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> DifferencePage:
    """The differences in the order they were found; page on with ``next``."""
    if await session.get(ReconcileRun, run_id) is None:
        raise NotFound("No such reconciliation run.")
    query = (
        select(ReconcileDifference)
        .where(ReconcileDifference.run_id == run_id)
        .order_by(ReconcileDifference.id)
        .limit(limit + 1)
    )
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(ReconcileDifference.id > after)
    rows = list((await session.execute(query)).scalars())
    following = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    link_next(request, response, following)
    return DifferencePage(
        items=[DifferenceOut.model_validate(r) for r in rows[:limit]], next=following
    )
