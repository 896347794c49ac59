"""Labs REST, authoring and running: create and edit a lab (course instructors), list and
read it (the course; learners once it started, until it is archived), start it (instructors
and TAs); ending and deleting are in `closing_routes`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy import select

from lms.audit.service import audit
from lms.auth import Principal
from lms.courses.roles import CourseAction
from lms.courses.routes import authorize
from lms.deps import SessionDep
from lms.labs import checks, closing, service
from lms.labs.deps import LabsDep
from lms.labs.schemas import LabIn, LabOut, LabPage, LabPatch, StartOut
from lms.pagination import decode_key_cursor, encode_key_cursor, link_next
from lms.permissions import Permission, require
from persistence.models import Lab
from persistence.models.base import utcnow

router = APIRouter(prefix="/api/v1", tags=["labs"])
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Manager = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]


@router.get("/courses/{course_id}/labs", summary="A course's labs")
async def list_labs(
    course_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> LabPage:
    """Every lab of the course (learners: the started ones), in a stable order."""
    _, role = await authorize(session, course_id, principal, CourseAction.VIEW)
    lab_role = service._lab_role(role)
    after = decode_key_cursor(cursor)
    query = select(Lab).where(Lab.course_id == course_id)
    if lab_role != "staff":
        query = query.where(Lab.status.not_in(("draft", closing.ARCHIVED)))
    if after is not None:
        query = query.where(Lab.id > after)
    rows = list((await session.scalars(query.order_by(Lab.id).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    following = encode_key_cursor(rows[-1].id) if more and rows else None
    link_next(request, response, following)
    return LabPage(items=[service.out(lab, lab_role) for lab in rows], next=following)


@router.post(
    "/courses/{course_id}/labs", status_code=status.HTTP_201_CREATED, summary="Author a lab"
)
async def create_lab(
    course_id: uuid.UUID, body: LabIn, request: Request, session: SessionDep, principal: Manager
) -> LabOut:
    """A draft lab: instructions, steps with hidden tests and points, template files."""
    course, _ = await authorize(session, course_id, principal, CourseAction.EDIT)
    lab = await service.create(session, course.id, body, principal.user_id, utcnow())
    audit(session, request, "labs.lab.create", target_type="lab", target_id=lab.id)
    await session.commit()
    return service.out(lab, "staff")


@router.get("/labs/{lab_id}", summary="A lab")
async def read_lab(lab_id: uuid.UUID, session: SessionDep, principal: Reader) -> LabOut:
    """Instructors and TAs get the tests and the template; learners the instructions, the
    steps (with which they completed) once the lab started."""
    lab, role = await service.reach(session, lab_id, principal, action=CourseAction.VIEW)
    closing.visible(lab, role)
    if role == "staff":
        return service.out(lab, role)
    done = await service.completed_steps(session, lab.id, principal.user_id)
    workspace = await service.workspace_of(session, lab.id, principal.user_id)
    current = workspace.current_step if workspace is not None else 0
    return service.out(lab, role, done=done, current=current)


@router.patch("/labs/{lab_id}", summary="Edit a lab")
async def edit_lab(
    lab_id: uuid.UUID, body: LabPatch, request: Request, session: SessionDep, principal: Manager
) -> LabOut:
    """Title, instructions, steps, template (null or missing: unchanged)."""
    lab, role = await service.reach(session, lab_id, principal, action=CourseAction.EDIT)
    closing.not_archived(lab)
    service.update_lab(lab, body, utcnow())
    if lab.status != "draft":
        await checks.ensure_column(session, lab)
    audit(session, request, "labs.lab.update", target_type="lab", target_id=lab.id)
    await session.commit()
    return service.out(lab, role)


@router.post("/labs/{lab_id}/start", summary="Start a lab")
async def start_lab(
    lab_id: uuid.UUID, request: Request, session: SessionDep, principal: Manager, labs: LabsDep
) -> StartOut:
    """Every enrolled learner gets their own workspace, a copy of the template (late
    joiners get theirs on first open); the lab's gradebook column is made."""
    lab, role = await service.reach(session, lab_id, principal, action=CourseAction.GRADE)
    closing.not_archived(lab)
    learners = await service.start(session, lab, utcnow())
    await checks.ensure_column(session, lab)
    audit(session, request, "labs.lab.start", target_type="lab", target_id=lab.id)
    await session.commit()
    await service.seed_all(labs.registry, lab, learners)
    await labs.send(lab.id, {"type": "status", "status": lab.status})
    for user_id in learners:
        await labs.changed(lab.id, user_id)
    return StartOut(lab=service.out(lab, role), workspaces=len(learners))
