"""Labs REST, the help queue: learners ask (one open request at a time), instructors and
TAs take requests in order and resolve them; everyone's place updates live (`queue`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from lms.audit.service import audit
from lms.auth import Principal
from lms.courses.roles import CourseAction
from lms.deps import SessionDep
from lms.labs import closing, service
from lms.labs import help as queue
from lms.labs.deps import LabsDep
from lms.labs.runtime import LabsRuntime
from lms.labs.schemas import HelpIn, HelpOut, HelpPage, MyHelpOut
from lms.labs.state import open_queue
from lms.pagination import decode_cursor, encode_cursor, link_next
from lms.permissions import Permission, require
from persistence.models import Lab, LabHelpRequest
from persistence.models.base import utcnow

router = APIRouter(prefix="/api/v1", tags=["labs"])
RequestId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # an Integer key
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Manager = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]


async def _changed(
    session: AsyncSession,
    request: Request,
    labs: LabsRuntime,
    lab: Lab,
    changed: LabHelpRequest,
    action: str,
    **detail: Any,
) -> HelpOut:
    """What every queue change ends with: audit ``action`` on the lab, commit, tell the lab's
    live views (everyone's place in the queue, the asker's own view) and answer the request as
    it now stands."""
    audit(session, request, action, target_type="lab", target_id=lab.id, **detail)
    await session.commit()
    await labs.send(lab.id, {"type": "queue", "open": await open_queue(session, lab.id)})
    await labs.changed(lab.id, changed.user_id)
    return await queue.out(session, changed)


@router.post("/labs/{lab_id}/help", status_code=status.HTTP_201_CREATED, summary="Ask for help")
async def ask_for_help(
    lab_id: uuid.UUID,
    body: HelpIn,
    request: Request,
    session: SessionDep,
    principal: Reader,
    labs: LabsDep,
) -> HelpOut:
    """Join the help queue on a step; one open request at a time (409 while one waits),
    and a few an hour (429)."""
    lab, role = await service.reach(session, lab_id, principal, action=CourseAction.VIEW)
    service.learner_only(role)
    service.running(lab)
    asked = await queue.ask(session, lab, principal.user_id, body.step_id, body.note, utcnow())
    return await _changed(session, request, labs, lab, asked, "labs.help.ask")


@router.get("/labs/{lab_id}/help", summary="The help queue")
async def list_help(
    lab_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    state: Literal["open", "taken", "resolved"] | None = Query(None, alias="status"),
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> HelpPage:
    """Requests in arrival order (instructors and TAs)."""
    lab, _ = await service.reach(session, lab_id, principal, action=CourseAction.GRADE)
    rows = await queue.listing(session, lab, status=state, after=decode_cursor(cursor), limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    following = encode_cursor(rows[-1].id) if more and rows else None
    link_next(request, response, following)
    return HelpPage(items=[await queue.out(session, r) for r in rows], next=following)


@router.get("/labs/{lab_id}/help/mine", summary="My help request and place in the queue")
async def my_help(lab_id: uuid.UUID, session: SessionDep, principal: Reader) -> MyHelpOut:
    """My waiting or taken request (if any), my place (1 = next) and the queue's order."""
    lab, role = await service.reach(session, lab_id, principal, action=CourseAction.VIEW)
    service.learner_only(role)
    found = await queue.mine(session, lab, principal.user_id)
    shown = await queue.out(session, found) if found is not None else None
    return MyHelpOut(
        request=shown,
        position=shown.position if shown is not None else None,
        queue=await open_queue(session, lab.id),
    )


async def _take(
    session: AsyncSession,
    request: Request,
    labs: LabsRuntime,
    principal: Principal,
    lab_id: uuid.UUID,
    request_id: int | None,
) -> HelpOut:
    """Assign a waiting request to the staff member asking: the one named, else the oldest."""
    lab, _ = await service.reach(session, lab_id, principal, action=CourseAction.GRADE)
    closing.not_archived(lab)
    found = None if request_id is None else await queue.request_of(session, lab, request_id)
    taken = await queue.take(session, lab, found, principal.user_id, utcnow())
    return await _changed(
        session, request, labs, lab, taken, "labs.help.take", help_request=taken.id
    )


@router.post("/labs/{lab_id}/help/next", summary="Take the next help request")
async def take_next(
    lab_id: uuid.UUID, request: Request, session: SessionDep, principal: Manager, labs: LabsDep
) -> HelpOut:
    """The oldest waiting request, assigned to me (404 when nobody waits)."""
    return await _take(session, request, labs, principal, lab_id, None)


@router.post("/labs/{lab_id}/help/{request_id}/take", summary="Take a help request")
async def take_request(
    lab_id: uuid.UUID,
    request_id: RequestId,
    request: Request,
    session: SessionDep,
    principal: Manager,
    labs: LabsDep,
) -> HelpOut:
    """Assign this request to me (409 if someone else has it)."""
    return await _take(session, request, labs, principal, lab_id, request_id)


@router.post("/labs/{lab_id}/help/{request_id}/resolve", summary="Resolve a help request")
async def resolve_request(
    lab_id: uuid.UUID,
    request_id: RequestId,
    request: Request,
    session: SessionDep,
    principal: Reader,
    labs: LabsDep,
) -> HelpOut:
    """Instructors and TAs resolve any; a learner withdraws their own."""
    lab, role = await service.reach(session, lab_id, principal, action=CourseAction.VIEW)
    if role is None:
        service.learner_only(role)
    found = await queue.request_of(session, lab, request_id)
    queue.resolve(found, principal.user_id, staff=role == "staff", now=utcnow())
    return await _changed(
        session, request, labs, lab, found, "labs.help.resolve", help_request=found.id
    )
