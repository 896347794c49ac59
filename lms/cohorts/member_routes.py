"""Cohorts REST: members, invitations by e-mail, CSV import and transfers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from sqlalchemy import or_, select
from starlette.responses import Response

from lms.accounts.service import find_active_user
from lms.audit.service import audit
from lms.cohorts import access, csv_import, invitations, service
from lms.cohorts.deps import Facilitated, Managed, Manager, Reader, Visible
from lms.cohorts.schemas import (
    AcceptIn,
    ImportAppliedOut,
    ImportErrorOut,
    ImportPreviewOut,
    ImportRowOut,
    InvitationIn,
    InvitationOut,
    MemberAdd,
    MemberPage,
    MembershipOut,
    TransferIn,
    TransferOut,
    TransferPage,
)
from lms.deps import RoomsDep, SessionDep, SettingsDep
from lms.errors import Conflict, InvalidInput, NotFound, UnsupportedMediaType
from lms.pagination import decode_cursor, encode_cursor, link_next
from lms.rooms import service as rooms
from persistence.models import CohortMember, CohortTransfer, User
from persistence.models.base import utcnow

router = APIRouter(tags=["cohorts"])
Cursor = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=200)]
CSV_TYPES = ("text/csv", "application/csv", "text/plain", "application/vnd.ms-excel")
CSV_BODY = {"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}}


@router.get("/api/v1/cohorts/{cohort_id}/members", summary="Members")
async def list_members(
    cohort_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    found: Visible,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> MemberPage:
    """Learners in joining order (facilitators see e-mail addresses, members names)."""
    query = (
        select(CohortMember, User)
        .join(User, User.id == CohortMember.user_id)
        .where(CohortMember.cohort_id == cohort_id)
    )
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(CohortMember.id > after)
    rows = list((await session.execute(query.order_by(CohortMember.id).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    following = encode_cursor(rows[-1][0].id) if more else None
    link_next(request, response, following)
    items = []
    for member, user in rows:
        out = service.membership_out(member, user)
        items.append(out if found.facilitate else out.model_copy(update={"email": None}))
    return MemberPage(items=items, next=following)


@router.post(
    "/api/v1/cohorts/{cohort_id}/members",
    status_code=status.HTTP_201_CREATED,
    summary="Add a learner",
)
async def add_member(
    cohort_id: uuid.UUID,
    body: MemberAdd,
    request: Request,
    session: SessionDep,
    principal: Manager,
    found: Managed,
) -> MembershipOut:
    """Put a learner in the cohort (and enrol them in the course)."""
    user = await find_active_user(
        session, user_id=body.user_id, email=str(body.email) if body.email else None
    )
    member = await service.join(session, cohort_id, user, "staff", utcnow())
    audit(
        session,
        request,
        "cohort.add_member",
        target_type="cohort",
        target_id=cohort_id,
        user_id=str(user.id),
    )
    out = service.membership_out(member, user)
    await session.commit()
    return out


@router.delete(
    "/api/v1/cohorts/{cohort_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a learner",
)
async def remove_member(
    cohort_id: uuid.UUID,
    user_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Manager,
    found: Managed,
    manager: RoomsDep,
    reason: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """Take a learner out of the cohort (they stay enrolled in the course); they leave
    its live rooms at once. ``reason`` is kept in the audit record."""
    lost = await service.leave(session, found.cohort, user_id)
    audit(
        session,
        request,
        "cohort.remove_member",
        target_type="cohort",
        target_id=cohort_id,
        user_id=str(user_id),
        reason=reason.strip(),
    )
    await session.commit()
    await rooms.remove_live(manager, lost, user_id, principal.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/api/v1/cohorts/{cohort_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    summary="Invite by e-mail",
)
async def invite(
    cohort_id: uuid.UUID,
    body: InvitationIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Manager,
    found: Managed,
) -> InvitationOut:
    """E-mail an accept link to an address (valid 14 days, for the account with it)."""
    row = await invitations.invite(
        session,
        found.cohort,
        str(body.email),
        principal.user_id,
        utcnow(),
        secret=settings.secret_key,
    )
    audit(
        session,
        request,
        "cohort.invite",
        target_type="cohort",
        target_id=cohort_id,
        invitation_id=str(row.id),
    )
    out = InvitationOut(
        id=row.id,
        cohort_id=row.cohort_id,
        email=row.email,
        created_at=row.created_at,
        expires_at=row.expires_at,
        accepted_at=None,
    )
    await session.commit()
    return out


@router.post(
    "/api/v1/cohort-invitations/accept",
    status_code=status.HTTP_201_CREATED,
    summary="Accept an invitation",
)
async def accept(
    body: AcceptIn, request: Request, session: SessionDep, principal: Manager
) -> MembershipOut:
    """Join the cohort the invitation names (signed in with the invited address)."""
    user = await session.get(User, principal.user_id)
    if user is None:
        raise NotFound("No such user.")
    member = await invitations.accept(session, body.token, user, utcnow())
    audit(
        session,
        request,
        "cohort.join",
        target_type="cohort",
        target_id=member.cohort_id,
        via="invitation",
    )
    out = service.membership_out(member, user)
    await session.commit()
    return out


async def _csv(request: Request) -> bytes:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in CSV_TYPES:
        raise UnsupportedMediaType("Send the file as text/csv.")
    return await request.body()


def _preview_out(found: csv_import.Preview) -> ImportPreviewOut:
    return ImportPreviewOut(
        rows=found.rows,
        adds=[ImportRowOut(row=n, user_id=u.id, email=u.email, name=u.name) for n, u in found.adds],
        unchanged=found.unchanged,
        errors=[ImportErrorOut(row=r, message=m) for r, m in found.errors],
        version=found.version,
    )


@router.post(
    "/api/v1/cohorts/{cohort_id}/import/preview",
    summary="Preview a CSV import",
    openapi_extra=CSV_BODY,
)
async def import_preview(
    cohort_id: uuid.UUID, request: Request, session: SessionDep, principal: Manager, found: Managed
) -> ImportPreviewOut:
    """Who the file would add and the errors per row; nothing is written."""
    return _preview_out(await csv_import.preview(session, found.cohort, await _csv(request)))


@router.post(
    "/api/v1/cohorts/{cohort_id}/import/apply",
    summary="Apply a previewed CSV import",
    openapi_extra=CSV_BODY,
)
async def import_apply(
    cohort_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Manager,
    found: Managed,
    version: Annotated[str, Query(min_length=1, max_length=100)],
) -> ImportAppliedOut:
    """The same file with the preview's ``version``: every learner is added in one
    transaction, or none (errors: 422; the cohort changed since the preview: 409)."""
    await service.lock(session, cohort_id)
    parsed = await csv_import.preview(session, found.cohort, await _csv(request))
    if parsed.errors:
        raise InvalidInput(
            "The file has errors; fix them and preview it again.",
            errors=[{"row": r, "message": m} for r, m in parsed.errors],
        )
    if parsed.version != version:
        raise Conflict("The cohort changed since the preview; preview the file again.")
    now = utcnow()
    for _, user in parsed.adds:
        await service.join(session, cohort_id, user, "csv", now)
    audit(
        session,
        request,
        "cohort.import",
        target_type="cohort",
        target_id=cohort_id,
        added=len(parsed.adds),
    )
    await session.commit()
    return ImportAppliedOut(added=len(parsed.adds))


@router.post(
    "/api/v1/cohorts/{cohort_id}/transfers",
    status_code=status.HTTP_201_CREATED,
    summary="Move a learner to another cohort",
)
async def transfer(
    cohort_id: uuid.UUID,
    body: TransferIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
    found: Managed,
    manager: RoomsDep,
) -> TransferOut:
    """Move a member to another cohort of the same course; the move is kept in history."""
    target = await access.standing(session, body.to_cohort_id, principal)
    target.require_manage()
    row, lost = await service.transfer(
        session,
        found.cohort,
        body.user_id,
        body.to_cohort_id,
        principal.user_id,
        body.reason,
        utcnow(),
    )
    audit(
        session,
        request,
        "cohort.transfer",
        target_type="cohort",
        target_id=cohort_id,
        user_id=str(body.user_id),
        to_cohort_id=str(body.to_cohort_id),
    )
    out = TransferOut.model_validate(row)
    await session.commit()
    await rooms.remove_live(manager, lost, body.user_id, principal.user_id)
    return out


@router.get("/api/v1/cohorts/{cohort_id}/transfers", summary="Transfer history")
async def list_transfers(
    cohort_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    found: Facilitated,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> TransferPage:
    """Every move into or out of the cohort, oldest first (its facilitators)."""
    query = select(CohortTransfer).where(
        or_(CohortTransfer.from_cohort_id == cohort_id, CohortTransfer.to_cohort_id == cohort_id)
    )
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(CohortTransfer.id > after)
    rows = list((await session.scalars(query.order_by(CohortTransfer.id).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    following = encode_cursor(rows[-1].id) if more else None
    link_next(request, response, following)
    return TransferPage(items=[TransferOut.model_validate(r) for r in rows], next=following)
