"""Cohorts REST: live sessions (rooms only the cohort enters), announcements and the
dashboard (JSON and CSV)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status
from sqlalchemy import select
from starlette.responses import Response

from jobs.events import emit
from lms.audit.service import audit
from lms.cohorts import dashboard
from lms.cohorts.deps import Facilitated, Facilitating, Manager, Reader, Visible
from lms.cohorts.events import ANNOUNCEMENT_POSTED, AnnouncementPosted
from lms.cohorts.schemas import (
    AnnouncementIn,
    AnnouncementOut,
    AnnouncementPage,
    DashboardOut,
    SessionIn,
    SessionOut,
    SessionPage,
    SortKey,
)
from lms.deps import SessionDep
from lms.notifications.categories import COHORTS
from lms.notifications.service import notify
from lms.pagination import decode_cursor, encode_cursor, link_next
from lms.rooms import service as rooms
from persistence.models import (
    CohortAnnouncement,
    CohortFacilitator,
    CohortMember,
    CohortSession,
)
from persistence.models.base import utcnow

router = APIRouter(tags=["cohorts"])
Cursor = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=200)]
InactiveDays = Annotated[int, Query(ge=1, le=365)]
Order = Annotated[Literal["asc", "desc"], Query()]


@router.post(
    "/api/v1/cohorts/{cohort_id}/sessions",
    status_code=status.HTTP_201_CREATED,
    summary="Schedule a live session",
)
async def create_session(
    cohort_id: uuid.UUID,
    body: SessionIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
    found: Facilitating,
) -> SessionOut:
    """A room that only the cohort's members (participants) and facilitators (co-hosts)
    enter; its chat is the cohort's chat for that session."""
    room = await rooms.create_room(
        session, title=body.title, created_by=principal.user_id, settings={"open": False}
    )
    members = await session.scalars(
        select(CohortMember.user_id).where(CohortMember.cohort_id == cohort_id)
    )
    for user_id in members.all():
        await rooms.admit(session, room.id, user_id, "participant")
    leads = await session.scalars(
        select(CohortFacilitator.user_id).where(CohortFacilitator.cohort_id == cohort_id)
    )
    for user_id in leads.all():
        if user_id != principal.user_id:
            await rooms.admit(session, room.id, user_id, "co-host")
    row = CohortSession(
        cohort_id=cohort_id,
        room_id=room.id,
        title=body.title,
        starts_at=body.starts_at,
        ends_at=body.starts_at + timedelta(minutes=body.duration_minutes),
    )
    session.add(row)
    await session.flush()
    audit(
        session,
        request,
        "cohort.schedule_session",
        target_type="cohort",
        target_id=cohort_id,
        room_id=str(room.id),
    )
    out = SessionOut.model_validate(row)
    await session.commit()
    return out


@router.get("/api/v1/cohorts/{cohort_id}/sessions", summary="Live sessions")
async def list_sessions(
    cohort_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    _: Visible,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> SessionPage:
    """The cohort's sessions in the order they were scheduled."""
    query = select(CohortSession).where(CohortSession.cohort_id == cohort_id)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(CohortSession.id > after)
    rows = list((await session.scalars(query.order_by(CohortSession.id).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    following = encode_cursor(rows[-1].id) if more else None
    link_next(request, response, following)
    return SessionPage(items=[SessionOut.model_validate(r) for r in rows], next=following)


@router.post(
    "/api/v1/cohorts/{cohort_id}/announcements",
    status_code=status.HTTP_201_CREATED,
    summary="Post an announcement",
)
async def post_announcement(
    cohort_id: uuid.UUID,
    body: AnnouncementIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
    found: Facilitating,
) -> AnnouncementOut:
    """Facilitators post; every member is notified (inbox and e-mail, per preferences)."""
    now = utcnow()
    row = CohortAnnouncement(
        cohort_id=cohort_id,
        author_id=principal.user_id,
        title=body.title,
        body=body.body,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    members = await session.scalars(
        select(CohortMember.user_id).where(CohortMember.cohort_id == cohort_id)
    )
    for user_id in members.all():
        await notify(
            session,
            user_id,
            COHORTS.name,
            f"{found.cohort.name}: {body.title}",
            body.body,
            f"/cohorts/{cohort_id}",
            key=f"cohort-announcement:{row.id}",
        )
    payload = AnnouncementPosted(
        announcement_id=row.id,
        cohort_id=cohort_id,
        course_id=found.cohort.course_id,
        author_id=principal.user_id,
        title=body.title,
        at=now,
    )
    await emit(session, ANNOUNCEMENT_POSTED, payload, aggregate_id=cohort_id)
    audit(
        session,
        request,
        "cohort.announce",
        target_type="cohort",
        target_id=cohort_id,
        announcement_id=row.id,
    )
    out = AnnouncementOut.model_validate(row)
    await session.commit()
    return out


@router.get("/api/v1/cohorts/{cohort_id}/announcements", summary="Announcements")
async def list_announcements(
    cohort_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    _: Visible,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> AnnouncementPage:
    """Newest first."""
    query = select(CohortAnnouncement).where(CohortAnnouncement.cohort_id == cohort_id)
    before = decode_cursor(cursor)
    if before is not None:
        query = query.where(CohortAnnouncement.id < before)
    ordered = query.order_by(CohortAnnouncement.id.desc()).limit(limit + 1)
    rows = list((await session.scalars(ordered)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    following = encode_cursor(rows[-1].id) if more else None
    link_next(request, response, following)
    return AnnouncementPage(items=[AnnouncementOut.model_validate(r) for r in rows], next=following)


@router.get("/api/v1/cohorts/{cohort_id}/dashboard", summary="The cohort dashboard")
async def get_dashboard(
    cohort_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    found: Facilitated,
    sort: SortKey = "name",
    order: Order = "asc",
    inactive_days: InactiveDays = 7,
) -> DashboardOut:
    """Per learner progress, attendance and whether they fall behind (facilitators)."""
    return await dashboard.build(
        session,
        found.cohort,
        utcnow(),
        inactive_days=inactive_days,
        sort=sort,
        descending=order == "desc",
    )


@router.get(
    "/api/v1/cohorts/{cohort_id}/dashboard.csv",
    summary="The cohort dashboard as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def dashboard_csv(
    cohort_id: uuid.UUID,
    session: SessionDep,
    principal: Reader,
    found: Facilitated,
    sort: SortKey = "name",
    order: Order = "asc",
    inactive_days: InactiveDays = 7,
) -> Response:
    """The dashboard's rows as a spreadsheet."""
    board = await dashboard.build(
        session,
        found.cohort,
        utcnow(),
        inactive_days=inactive_days,
        sort=sort,
        descending=order == "desc",
    )
    return Response(
        dashboard.as_csv(board).encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="cohort-dashboard.csv"'},
    )
