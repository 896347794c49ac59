"""Calendar feeds: iCalendar files at signed URLs (calendar apps send no credentials) and
the signed-in route that hands a person their own feed's link."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select
from starlette.responses import Response

from lms.auth import Principal
from lms.deps import SessionDep, SettingsDep
from lms.errors import NotFound
from lms.notifications.templates import absolute
from lms.permissions import Permission, require
from lms.workshops import feeds, service
from lms.workshops.seats import ACTIVE
from ops.guards import public
from persistence.models import User, Workshop, WorkshopOccurrence, WorkshopRegistration
from persistence.models.base import utcnow

router = APIRouter(tags=["workshops"])
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Signature = Annotated[str, Query(min_length=1, max_length=100)]
ICS = "text/calendar; charset=utf-8"
NO_FEED = "No such calendar feed (the link may have been replaced)."


class FeedLink(BaseModel):
    """A calendar feed's address, to subscribe to from a calendar app."""

    url: str
    webcal: str


def _link(public_url: str, path: str) -> FeedLink:
    url = absolute(public_url, path) or path
    return FeedLink(url=url, webcal="webcal://" + url.split("://", 1)[-1])


def _ics(body: bytes) -> Response:
    headers = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}
    return Response(body, media_type=ICS, headers=headers)


@router.get("/api/v1/users/me/calendar-feed", summary="My calendar feed's link")
async def my_feed(principal: Reader, session: SessionDep, settings: SettingsDep) -> FeedLink:
    """The signed link of the caller's feed; it ends with their sessions (new password,
    sign out everywhere)."""
    user = await session.get(User, principal.user_id)
    if user is None:
        raise NotFound("No such user.")
    path = feeds.person_path(settings.secret_key, user.id, user.token_version)
    return _link(settings.public_url, path)


@router.get("/api/v1/workshops/{workshop_id}/calendar-feed", summary="A workshop's feed link")
async def workshop_feed(
    workshop_id: uuid.UUID, principal: Reader, session: SessionDep, settings: SettingsDep
) -> FeedLink:
    """The signed link of one workshop's feed."""
    workshop = await service.get(session, workshop_id)
    return _link(settings.public_url, feeds.workshop_path(settings.secret_key, workshop.id))


@router.get(
    "/api/v1/workshops/{workshop_id}/calendar.ics",
    dependencies=[Depends(public)],
    summary="A workshop's iCalendar feed (signed link)",
    response_class=Response,
)
async def workshop_calendar(
    workshop_id: uuid.UUID, sig: Signature, session: SessionDep, settings: SettingsDep
) -> Response:
    """Every session of the workshop; a link not signed by this node is a 404."""
    if not feeds.workshop_signed(settings.secret_key, workshop_id, sig):
        raise NotFound(NO_FEED)
    workshop = await service.get(session, workshop_id)
    sessions = [(workshop, o) for o in await service.occurrences(session, workshop.id)]
    base = (settings.public_url or "").rstrip("/")
    return _ics(feeds.calendar(workshop.title, sessions, utcnow(), base))


@router.get(
    "/api/v1/calendars/{user_id}.ics",
    dependencies=[Depends(public)],
    summary="A person's iCalendar feed (signed link)",
    response_class=Response,
)
async def person_calendar(
    user_id: uuid.UUID,
    v: Annotated[int, Query(ge=0, le=2**31)],
    sig: Signature,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Every session of the workshops the person holds a seat in or waits for."""
    user = await session.get(User, user_id)
    if (
        user is None
        or not user.is_active
        or user.token_version != v
        or not feeds.person_signed(settings.secret_key, user_id, v, sig)
    ):
        raise NotFound(NO_FEED)
    rows = await session.execute(
        select(Workshop, WorkshopOccurrence)
        .join(WorkshopRegistration, WorkshopRegistration.workshop_id == Workshop.id)
        .join(WorkshopOccurrence, WorkshopOccurrence.workshop_id == Workshop.id)
        .where(WorkshopRegistration.user_id == user_id, WorkshopRegistration.status.in_(ACTIVE))
        .order_by(WorkshopOccurrence.starts_at, WorkshopOccurrence.id)
        .limit(2000)
    )
    base = (settings.public_url or "").rstrip("/")
    sessions = [(w, o) for w, o in rows.tuples()]
    return _ics(feeds.calendar("My workshops", sessions, utcnow(), base))
