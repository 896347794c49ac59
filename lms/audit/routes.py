"""Read-only query API over the audit log, for admins. Nothing here can change a record."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, select

from lms.deps import SessionDep
from lms.permissions import Permission, require
from persistence.models import AuditEvent
from persistence.models.base import as_utc

router = APIRouter(
    prefix="/api/v1/audit-events",
    tags=["audit"],
    dependencies=[Depends(require(Permission.AUDIT_READ))],
)


class AuditEventOut(BaseModel):
    """One audit record."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor_id: uuid.UUID | None
    actor_kind: str
    action: str
    target_type: str | None
    target_id: str | None
    ip: str | None
    outcome: str
    request_id: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    """A page of records, newest first; pass ``next_before`` as ``before`` for the next."""

    items: list[AuditEventOut]
    next_before: int | None


Text = Annotated[str | None, Query(max_length=320)]


@router.get("", summary="Query the audit log")
async def list_events(
    session: SessionDep,
    actor_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=80)] = None,
    action_prefix: Annotated[str | None, Query(max_length=80)] = None,
    target_type: Annotated[str | None, Query(max_length=40)] = None,
    target_id: Text = None,
    outcome: Literal["success", "failure", "denied", "throttled"] | None = None,
    ip: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Records matching every given filter, newest first, keyset-paginated by id."""
    conditions: list[ColumnElement[bool]] = []
    if actor_id is not None:
        conditions.append(AuditEvent.actor_id == actor_id)
    if action:
        conditions.append(AuditEvent.action == action)
    if action_prefix:
        conditions.append(AuditEvent.action.startswith(action_prefix, autoescape=True))
    if target_type:
        conditions.append(AuditEvent.target_type == target_type)
    if target_id:
        conditions.append(AuditEvent.target_id == target_id)
    if outcome:
        conditions.append(AuditEvent.outcome == outcome)
    if ip:
        conditions.append(AuditEvent.ip == ip)
    if since is not None:
        conditions.append(AuditEvent.at >= as_utc(since))
    if until is not None:
        conditions.append(AuditEvent.at < as_utc(until))
    if before is not None:
        conditions.append(AuditEvent.id < before)
    query = select(AuditEvent).where(*conditions)
    rows = list(
        (await session.execute(query.order_by(AuditEvent.id.desc()).limit(limit + 1))).scalars()
    )
    more = len(rows) > limit
    items = [AuditEventOut.model_validate(r) for r in rows[:limit]]
    return AuditPage(items=items, next_before=items[-1].id if more and items else None)
