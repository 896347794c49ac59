"""Labs REST, closing: end a lab (graded: scores and the final workspaces kept), delete it
(a draft goes, a started lab is archived), and read a learner's final workspace."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from sqlalchemy import select

from lms.audit.service import audit
from lms.auth import Principal
from lms.courses.roles import CourseAction
from lms.deps import SessionDep
from lms.errors import Forbidden, NotFound
from lms.labs import closing, service
from lms.labs.deps import LabsDep
from lms.labs.schemas import FinalFile, FinalOut, LabOut
from lms.permissions import Permission, require
from persistence.models import LabCompletion
from persistence.models.base import as_utc, utcnow

router = APIRouter(prefix="/api/v1", tags=["labs"])
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Manager = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]


@router.post("/labs/{lab_id}/end", summary="End a lab")
async def end_lab(
    lab_id: uuid.UUID, request: Request, session: SessionDep, principal: Manager, labs: LabsDep
) -> LabOut:
    """No more checks or help requests; the lock is lifted; every learner's score goes to
    the lab's gradebook column and their workspace's files are kept with it (workspaces
    stay readable)."""
    lab, role = await service.reach(session, lab_id, principal, action=CourseAction.GRADE)
    closing.not_archived(lab)
    service.running(lab)
    graded = await closing.end(session, labs.registry, lab, utcnow())
    audit(session, request, "labs.lab.end", target_type="lab", target_id=lab.id, graded=graded)
    await session.commit()
    await labs.send(lab.id, {"type": "status", "status": lab.status})
    await labs.send(lab.id, {"type": "lock", "locked": False})
    return service.out(lab, role)


@router.delete("/labs/{lab_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a lab")
async def delete_lab(
    lab_id: uuid.UUID, request: Request, session: SessionDep, principal: Manager, labs: LabsDep
) -> Response:
    """A draft is deleted outright. A lab that started is archived: gone from learners'
    lists, its workspaces kept read-only for its instructors and TAs, its grades kept (a
    running lab is graded first, as at its end); open feeds close with 4004 and learners'
    workspace connections with 4003. Deleting an archived lab again changes nothing."""
    lab, _ = await service.reach(session, lab_id, principal, action=CourseAction.EDIT)
    if lab.status == closing.ARCHIVED:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    removed = await closing.delete(session, labs.registry, lab, utcnow())
    audit(
        session,
        request,
        "labs.lab.delete" if removed else "labs.lab.archive",
        target_type="lab",
        target_id=lab_id,
    )
    await session.commit()
    if not removed:
        await labs.send(lab_id, {"type": "status", "status": closing.ARCHIVED})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/labs/{lab_id}/workspaces/{user_id}/final", summary="A final workspace")
async def final_workspace(
    lab_id: uuid.UUID, user_id: uuid.UUID, session: SessionDep, principal: Reader
) -> FinalOut:
    """A learner's files as they were when the lab ended, with the steps they passed and
    their score: the lab's instructors and TAs for anyone, a learner for their own (not
    once the lab is archived); 404 before the lab ended."""
    lab, role = await service.reach(session, lab_id, principal, action=CourseAction.VIEW)
    closing.visible(lab, role)
    if role != "staff" and user_id != principal.user_id:
        raise Forbidden("This workspace is not yours.")
    workspace = await service.workspace_of(session, lab.id, user_id)
    if workspace is None or workspace.final_files is None or workspace.final_at is None:
        raise NotFound("This workspace has no final state yet: the lab has not ended.")
    query = (
        select(LabCompletion)
        .where(LabCompletion.lab_id == lab.id, LabCompletion.user_id == user_id)
        .order_by(LabCompletion.id)
    )
    done = [(c.step_id, c.points) for c in (await session.scalars(query)).all()]
    return FinalOut(
        lab_id=lab.id,
        user_id=user_id,
        files=[FinalFile(name=str(f["name"]), text=str(f["text"])) for f in workspace.final_files],
        at=as_utc(workspace.final_at),
        steps_done=[step for step, _ in done],
        score=sum(points for _, points in done),
    )
