"""Labs: authoring, starting, each learner's workspace (created, seeded, reset), the live
controls (lock, share, broadcast) and the timeline. Takes a session, returns values; the
routes commit and then send the live signals.

Seeding a workspace writes the template into its Yjs document through the node's registry
(a durable write of its own), so it happens after the workspace row committed: on SQLite
the request's open write transaction would otherwise hold the lock that write needs.
Seeding is idempotent (only an empty document is filled), and a learner's every open seeds
again if an earlier try did not finish.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lms.auth import Principal
from lms.content import render
from lms.courses.roles import CourseAction, CourseRole, may
from lms.courses.routes import authorize
from lms.errors import Forbidden, InvalidInput, NotFound
from lms.labs import workspace_docs
from lms.labs.errors import LabNotRunning
from lms.labs.roles import LabRole
from lms.labs.schemas import FileIn, LabIn, LabOut, LabPatch, StepOut, TestIn
from persistence.models import Enrollment, Lab, LabActivity, LabCompletion, LabWorkspace
from persistence.models.base import as_utc
from realtime.yjs.registry import DocumentRegistry

MAX_LABS_PER_COURSE = 500
RAN_EVERY = timedelta(seconds=5)
"""A learner's browser runs are kept in the timeline at most this often."""


async def lab_of(session: AsyncSession, lab_id: uuid.UUID) -> Lab:
    """A lab by id, or 404."""
    found = await session.get(Lab, lab_id)
    if found is None:
        raise NotFound("No such lab.")
    return found


async def reach(
    session: AsyncSession, lab_id: uuid.UUID, principal: Principal, *, action: CourseAction
) -> tuple[Lab, LabRole | None]:
    """The lab and the caller's role in it, checked for ``action`` on its course: EDIT to
    author, GRADE to run it (instructors and TAs), VIEW to take part."""
    lab = await lab_of(session, lab_id)
    _, role = await authorize(session, lab.course_id, principal, action)
    return lab, _lab_role(role)


def _lab_role(role: CourseRole | None) -> LabRole | None:
    if may(role, CourseAction.GRADE):
        return "staff"
    return "learner" if role == CourseRole.STUDENT else None


def learner_only(role: LabRole | None) -> None:
    """Refuse a caller who is not a student of the lab's course."""
    if role != "learner":
        raise Forbidden("Only the course's learners work in a lab.")


def running(lab: Lab) -> None:
    """Refuse when the lab is not running."""
    if lab.status != "running":
        raise LabNotRunning("The lab is not running; the instructor starts it.")


def _step_file(lab: Lab, step: dict[str, Any]) -> str:
    names = [str(f["name"]) for f in lab.files]
    return str(step.get("file") or (names[0] if names else "main.py"))


def points_of(lab: Lab) -> int:
    """The lab's total points (the sum of its steps')."""
    return sum(int(s.get("points", 0)) for s in lab.steps)


def out(
    lab: Lab, role: LabRole | None, *, done: set[str] | None = None, current: int | None = None
) -> LabOut:
    """A lab as ``role`` sees it: instructors and TAs get the tests and the template."""
    staff = role == "staff"
    steps = [
        StepOut(
            id=str(s["id"]),
            title=str(s["title"]),
            body=str(s.get("body", "")),
            html=render.render(str(s.get("body", ""))),
            file=_step_file(lab, s),
            points=int(s.get("points", 0)),
            test_count=len(s.get("tests", [])),
            tests=[TestIn.model_validate(t) for t in s["tests"]] if staff else None,
            done=str(s["id"]) in (done or set()),
        )
        for s in lab.steps
    ]
    files = [
        FileIn(name=str(f["name"]), text=str(f.get("text", "")) if staff else "") for f in lab.files
    ]
    return LabOut(
        id=lab.id,
        course_id=lab.course_id,
        title=lab.title,
        instructions=lab.instructions,
        html=render.render(lab.instructions),
        status=lab.status,
        locked=lab.locked,
        shared_user_id=lab.shared_user_id,
        broadcast=lab.broadcast,
        steps=steps,
        files=files,
        points=points_of(lab),
        my_role=role,
        current_step=current,
        started_at=lab.started_at,
        created_at=lab.created_at,
    )


def _check_renders(text: str) -> None:
    try:
        render.render(text)
    except render.PageTooLongError as exc:
        raise InvalidInput(str(exc)) from None


async def create(
    session: AsyncSession, course_id: uuid.UUID, body: LabIn, by: uuid.UUID, now: datetime
) -> Lab:
    """A new draft lab."""
    count = await session.scalar(select(func.count()).where(Lab.course_id == course_id))
    if (count or 0) >= MAX_LABS_PER_COURSE:
        raise InvalidInput(f"A course holds at most {MAX_LABS_PER_COURSE} labs.")
    _check_renders(body.instructions)
    lab = Lab(
        course_id=course_id,
        title=body.title,
        instructions=body.instructions,
        steps=[s.model_dump() for s in body.steps],
        files=[f.model_dump() for f in body.files],
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    _check_step_files(lab)
    session.add(lab)
    await session.flush()
    return lab


def update_lab(lab: Lab, body: LabPatch, now: datetime) -> None:
    """Apply a patch (null fields keep theirs). A running lab's template can change; the
    workspaces already made keep their copy (a reset takes the new one)."""
    if body.title is not None:
        lab.title = body.title
    if body.instructions is not None:
        _check_renders(body.instructions)
        lab.instructions = body.instructions
    if body.steps is not None:
        lab.steps = [s.model_dump() for s in body.steps]
    if body.files is not None:
        lab.files = [f.model_dump() for f in body.files]
    _check_step_files(lab)
    lab.updated_at = now


def _check_step_files(lab: Lab) -> None:
    names = {str(f["name"]) for f in lab.files}
    for step in lab.steps:
        if step.get("file") and step["file"] not in names:
            raise InvalidInput(f"Step {step['id']} names a file the template does not have.")


async def learners_of(session: AsyncSession, course_id: uuid.UUID) -> list[uuid.UUID]:
    """The course's students."""
    query = select(Enrollment.user_id).where(
        Enrollment.course_id == course_id, Enrollment.role == "student"
    )
    return list((await session.scalars(query)).all())


async def add_workspace(
    session: AsyncSession, lab: Lab, user_id: uuid.UUID, now: datetime
) -> LabWorkspace:
    """The learner's workspace row (made once: two first opens at once make one)."""
    query = select(LabWorkspace).where(
        LabWorkspace.lab_id == lab.id, LabWorkspace.user_id == user_id
    )
    found = (await session.scalars(query)).one_or_none()
    if found is not None:
        return found
    row = LabWorkspace(
        lab_id=lab.id, user_id=user_id, created_at=now, last_activity_at=now, progressed_at=now
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return (await session.scalars(query)).one()
    session.add(LabActivity(lab_id=lab.id, user_id=user_id, kind="joined", detail={}, at=now))
    return row


async def start(session: AsyncSession, lab: Lab, now: datetime) -> list[uuid.UUID]:
    """Start the lab: a workspace row for every learner enrolled now (late joiners get
    theirs on first open); returns the learners, whose documents the caller seeds."""
    if lab.status == "draft" or lab.status == "ended":
        lab.status = "running"
        lab.started_at = lab.started_at or now
    learners = await learners_of(session, lab.course_id)
    for user_id in learners:
        await add_workspace(session, lab, user_id, now)
    return learners


async def seed(registry: DocumentRegistry, lab: Lab, user_id: uuid.UUID) -> None:
    """Fill an empty workspace document with the template (nothing if it has content)."""
    name = workspace_docs.document_name(lab.id, user_id)
    document = await registry.acquire(name)
    try:
        keys = set(document.ydoc.keys())
        if any(k.startswith(workspace_docs.FILE_ROOT) for k in keys):
            return
        await document.submit(workspace_docs.template_update(lab.files))
    finally:
        registry.release(document)


async def seed_all(registry: DocumentRegistry, lab: Lab, users: list[uuid.UUID]) -> None:
    """Seed many workspaces, a few at a time (their writes share group commits)."""
    for first in range(0, len(users), 16):
        await asyncio.gather(*(seed(registry, lab, u) for u in users[first : first + 16]))


async def reset(registry: DocumentRegistry, lab: Lab, user_id: uuid.UUID) -> None:
    """Put the template back into a workspace (an edit: the history stays)."""
    name = workspace_docs.document_name(lab.id, user_id)
    document = await registry.acquire(name)
    try:
        await document.submit(workspace_docs.reset_update(document.ydoc, lab.files))
    finally:
        registry.release(document)


async def read_code(
    registry: DocumentRegistry, lab_id: uuid.UUID, user_id: uuid.UUID, file: str
) -> str:
    """A file of a workspace as it is now (the live copy, which holds every acknowledged edit)."""
    name = workspace_docs.document_name(lab_id, user_id)
    document = await registry.acquire(name)
    try:
        return workspace_docs.read_file(document.ydoc, file)
    finally:
        registry.release(document)


async def workspace_of(
    session: AsyncSession, lab_id: uuid.UUID, user_id: uuid.UUID
) -> LabWorkspace | None:
    """A learner's workspace row."""
    query = select(LabWorkspace).where(
        LabWorkspace.lab_id == lab_id, LabWorkspace.user_id == user_id
    )
    return (await session.scalars(query)).one_or_none()


async def completed_steps(session: AsyncSession, lab_id: uuid.UUID, user_id: uuid.UUID) -> set[str]:
    """The ids of the steps a learner completed."""
    query = select(LabCompletion.step_id).where(
        LabCompletion.lab_id == lab_id, LabCompletion.user_id == user_id
    )
    return set((await session.scalars(query)).all())


async def note_activity(
    session: AsyncSession,
    lab_id: uuid.UUID,
    user_id: uuid.UUID,
    kind: str,
    now: datetime,
    **detail: Any,
) -> bool:
    """Add a timeline entry and touch the workspace's last activity (the UPDATE comes
    first, so it also serialises one learner's concurrent requests). False for a browser
    run recorded less than ``RAN_EVERY`` ago (kept out of the timeline)."""
    await session.execute(
        update(LabWorkspace)
        .where(LabWorkspace.lab_id == lab_id, LabWorkspace.user_id == user_id)
        .values(last_activity_at=now)
    )
    if kind == "ran":
        last = await session.scalar(
            select(func.max(LabActivity.at)).where(
                LabActivity.lab_id == lab_id,
                LabActivity.user_id == user_id,
                LabActivity.kind == "ran",
            )
        )
        if last is not None and now - as_utc(last) < RAN_EVERY:
            return False
    session.add(LabActivity(lab_id=lab_id, user_id=user_id, kind=kind, detail=detail, at=now))
    return True
