"""Workshops REST: the catalogue, scheduling, registration and the waitlist.

Instructors and admins schedule workshops; everyone signed in registers. The organiser
(or an admin) sees the registrations and cancels the workshop; a registration is only
its owner's to confirm or cancel (anyone else's is a 404).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from starlette.responses import Response

from lms.audit.service import audit
from lms.auth import Principal
from lms.deps import SessionDep
from lms.pagination import (
    decode_cursor,
    decode_key_cursor,
    encode_cursor,
    encode_key_cursor,
    link_next,
)
from lms.payments import catalogue as payments_catalogue
from lms.permissions import Permission, require
from lms.workshops import seats, service, sessions
from lms.workshops.schemas import (
    RegistrationOut,
    RegistrationPage,
    WorkshopCreate,
    WorkshopOut,
    WorkshopPage,
    WorkshopUpdate,
)
from persistence.models import WorkshopRegistration
from persistence.models.base import utcnow

router = APIRouter(tags=["workshops"])
Creator = Annotated[Principal, Depends(require(Permission.COURSES_CREATE))]
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Member = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]
Cursor = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=200)]


@router.post("/api/v1/workshops", status_code=status.HTTP_201_CREATED, summary="Schedule")
async def create_workshop(
    body: WorkshopCreate, request: Request, session: SessionDep, principal: Creator
) -> WorkshopOut:
    """Schedule a one-off or recurring workshop; its sessions are stored in UTC."""
    workshop = await service.create(session, principal.user_id, body)
    audit(session, request, "workshop.create", target_type="workshop", target_id=workshop.id)
    out = await service.workshop_out(session, workshop, principal.user_id)
    await session.commit()
    return out


@router.get("/api/v1/workshops", summary="The workshop catalogue")
async def list_workshops(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    cursor: Cursor = None,
    limit: Limit = 50,
    q: Annotated[str | None, Query(max_length=100, description="Words in the title.")] = None,
    available: Annotated[bool, Query(description="Only with a seat or waitlist place.")] = False,
    upcoming: Annotated[bool, Query(description="Only with a session still to come.")] = False,
) -> WorkshopPage:
    """Every scheduled workshop, in a stable order, with the caller's registration."""
    rows, after = await service.catalogue(
        session,
        decode_key_cursor(cursor),
        limit,
        now=utcnow(),
        text=q,
        available=available,
        upcoming=upcoming,
    )
    following = encode_key_cursor(after) if after is not None else None
    link_next(request, response, following)
    items = [await service.workshop_out(session, w, principal.user_id) for w in rows]
    return WorkshopPage(items=items, next=following)


@router.get("/api/v1/workshops/{workshop_id}", summary="One workshop")
async def get_workshop(
    workshop_id: uuid.UUID, session: SessionDep, principal: Reader
) -> WorkshopOut:
    """The workshop, its sessions and seats, and the caller's registration."""
    workshop = await service.get(session, workshop_id)
    return await service.workshop_out(session, workshop, principal.user_id)


@router.patch("/api/v1/workshops/{workshop_id}", summary="Change a workshop")
async def update_workshop(
    workshop_id: uuid.UUID,
    body: WorkshopUpdate,
    request: Request,
    session: SessionDep,
    principal: Member,
) -> WorkshopOut:
    """The organiser changes the title, description, seats or deadlines (not the schedule)."""
    workshop = await service.update(
        session, workshop_id, principal.user_id, principal.role, body, utcnow()
    )
    audit(
        session,
        request,
        "workshop.update",
        target_type="workshop",
        target_id=workshop.id,
        changes=body.model_dump(mode="json", exclude_none=True),
    )
    out = await service.workshop_out(session, workshop, principal.user_id)
    await session.commit()
    return out


@router.post("/api/v1/workshops/{workshop_id}/cancel", summary="Cancel a workshop")
async def cancel_workshop(
    workshop_id: uuid.UUID, request: Request, session: SessionDep, principal: Member
) -> WorkshopOut:
    """The organiser cancels it; every registration and waitlist place ends."""
    workshop = await service.cancel_workshop(
        session, workshop_id, principal.user_id, principal.role, utcnow()
    )
    audit(session, request, "workshop.cancel", target_type="workshop", target_id=workshop.id)
    out = await service.workshop_out(session, workshop, principal.user_id)
    await session.commit()
    return out


@router.post(
    "/api/v1/workshops/{workshop_id}/registrations",
    status_code=status.HTTP_201_CREATED,
    summary="Register (or join the waitlist)",
)
async def register(
    workshop_id: uuid.UUID, request: Request, session: SessionDep, principal: Member
) -> RegistrationOut:
    """A seat while there is one, else a place in the waitlist in arrival order. A
    workshop sold at a price is bought instead (409, reason ``paid``) while a seat is
    left; when full its waitlist is joined, and a seat offered from it is paid for."""
    sold = await payments_catalogue.sold(session, "workshop", workshop_id)
    mine = await seats.register(session, workshop_id, principal.user_id, utcnow(), sold=sold)
    audit(
        session,
        request,
        "workshop.register",
        target_type="workshop",
        target_id=workshop_id,
        status=mine.status,
    )
    out = await service.registration_out(session, mine)
    await session.commit()
    return out


@router.get("/api/v1/workshops/{workshop_id}/registrations", summary="Registrations")
async def list_registrations(
    workshop_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Member,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> RegistrationPage:
    """Everyone's registration in arrival order (the organiser and admins only)."""
    workshop = await service.get(session, workshop_id)
    seats.check_organiser(workshop, principal.user_id, principal.role)
    rows, after = await service.registrations(session, workshop, decode_cursor(cursor), limit)
    following = encode_cursor(after) if after is not None else None
    link_next(request, response, following)
    names = await sessions.names(session, [r.user_id for r in rows])
    items = [
        (await service.registration_out(session, r)).model_copy(
            update={"name": names.get(r.user_id)}
        )
        for r in rows
    ]
    return RegistrationPage(items=items, next=following)


@router.post("/api/v1/workshop-registrations/{registration_id}/confirm", summary="Confirm a seat")
async def confirm(
    registration_id: uuid.UUID, request: Request, session: SessionDep, principal: Member
) -> RegistrationOut:
    """Take the seat offered after a cancellation, before the offer lapses. A seat in a
    sold workshop is paid for instead (409, reason ``payment_required``): the buyer's
    order uses the seat the offer holds, and its fulfilment registers them."""
    found = await session.get(WorkshopRegistration, registration_id)
    sold = found is not None and await payments_catalogue.sold(
        session, "workshop", found.workshop_id
    )
    mine = await seats.confirm(session, registration_id, principal.user_id, utcnow(), sold=sold)
    audit(
        session,
        request,
        "workshop.confirm",
        target_type="workshop_registration",
        target_id=mine.id,
    )
    out = await service.registration_out(session, mine)
    await session.commit()
    return out


@router.post("/api/v1/workshop-registrations/{registration_id}/cancel", summary="Give up a place")
async def cancel_registration(
    registration_id: uuid.UUID, request: Request, session: SessionDep, principal: Member
) -> RegistrationOut:
    """Give back a seat (before the cancellation deadline) or leave the waitlist."""
    mine = await seats.cancel(session, registration_id, principal.user_id, utcnow())
    audit(
        session,
        request,
        "workshop.unregister",
        target_type="workshop_registration",
        target_id=mine.id,
    )
    out = await service.registration_out(session, mine)
    await session.commit()
    return out
