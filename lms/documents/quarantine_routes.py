"""Admin API over quarantined document updates: stored updates that no longer applied.

A document that held such an update loaded without it (see `persistence.documents`); the
bytes are kept here so an operator can inspect them (or hand them to a Yjs developer) and
then discard them. Listing and reading need `users:manage` (admins); discarding is audited.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import ColumnElement, delete, select

from lms.audit.service import audit
from lms.auth import Principal
from lms.deps import SessionDep
from lms.errors import NotFound
from lms.pagination import decode_cursor, encode_cursor, link_next
from lms.permissions import Permission, require
from persistence.models import QuarantinedUpdate

router = APIRouter(prefix="/api/v1/admin/document-quarantine", tags=["documents"])
Admin = Annotated[Principal, Depends(require(Permission.USERS_MANAGE))]


class QuarantinedOut(BaseModel):
    """One quarantined part of a document (without its bytes)."""

    id: int
    doc: str
    source: str
    reason: str
    size: int
    quarantined_at: datetime


class QuarantinedDetail(QuarantinedOut):
    """One quarantined part with its bytes (base64), as stored."""

    data_base64: str


class QuarantinePage(BaseModel):
    """Quarantined parts, newest first; `next` is the cursor of the following page."""

    items: list[QuarantinedOut]
    next: str | None


def _out(row: QuarantinedUpdate) -> QuarantinedOut:
    return QuarantinedOut(
        id=row.id,
        doc=row.doc,
        source=row.source,
        reason=row.reason,
        size=len(row.data),
        quarantined_at=row.quarantined_at,
    )


@router.get("", summary="Quarantined document updates")
async def list_quarantined(
    request: Request,
    response: Response,
    session: SessionDep,
    _: Admin,
    doc: Annotated[str | None, Query(max_length=255)] = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> QuarantinePage:
    """Newest first, optionally for one document; page on with `next` (or the Link header)."""
    conditions: list[ColumnElement[bool]] = []
    if doc:
        conditions.append(QuarantinedUpdate.doc == doc)
    after = decode_cursor(cursor)
    if after is not None:
        conditions.append(QuarantinedUpdate.id < after)
    rows = list(
        (
            await session.execute(
                select(QuarantinedUpdate)
                .where(*conditions)
                .order_by(QuarantinedUpdate.id.desc())
                .limit(limit + 1)
            )
        ).scalars()
    )
    items = [_out(row) for row in rows[:limit]]
    following = encode_cursor(items[-1].id) if len(rows) > limit and items else None
    link_next(request, response, following)
    return QuarantinePage(items=items, next=following)


async def _get(session: SessionDep, entry_id: int) -> QuarantinedUpdate:
    row = await session.get(QuarantinedUpdate, entry_id)
    if row is None:
        raise NotFound("No such quarantined update.")
    return row


@router.get("/{entry_id}", summary="One quarantined update, with its bytes")
async def read_quarantined(
    session: SessionDep, _: Admin, entry_id: Annotated[int, Path(ge=1, le=2**62)]
) -> QuarantinedDetail:
    """The entry and its stored bytes, base64-encoded."""
    row = await _get(session, entry_id)
    data = base64.b64encode(row.data).decode()
    return QuarantinedDetail(**_out(row).model_dump(), data_base64=data)


@router.delete(
    "/{entry_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Discard a quarantined update"
)
async def discard_quarantined(
    request: Request,
    session: SessionDep,
    principal: Admin,
    entry_id: Annotated[int, Path(ge=1, le=2**62)],
) -> Response:
    """Delete the entry for good (audited)."""
    row = await _get(session, entry_id)
    await session.execute(delete(QuarantinedUpdate).where(QuarantinedUpdate.id == row.id))
    audit(
        session,
        request,
        "document.quarantine.discard",
        actor=principal,
        target_type="document",
        target_id=row.doc,
        entry=row.id,
    )
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
