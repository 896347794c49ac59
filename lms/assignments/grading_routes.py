"""Submissions and grading REST: a student hands in and reads their history (and, once
posted, grade, rubric and comments); graders (instructors, TAs) list learners, open one,
grade, comment and preview files; instructors reveal names and post grades.

Grader routes name learners by key and, while the assignment is anonymous, return no
identity. Every route checks the caller's course role in the database on each request, so
a role changed after the token was minted applies at once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, status
from starlette.responses import JSONResponse, Response

from lms.assignments import grading, service, submissions
from lms.assignments.routes import visible
from lms.assignments.rubric_routes import rubric_out
from lms.assignments.schemas import (
    CommentIn,
    CommentOut,
    GradeIn,
    GradingDetail,
    GradingList,
    LearnerKey,
    LinkOut,
    MySubmissions,
    SubmissionIn,
)
from lms.audit.service import audit
from lms.auth import Principal
from lms.courses.roles import CourseAction, CourseRole, may
from lms.courses.routes import authorize
from lms.deps import SessionDep, SettingsDep
from lms.errors import Forbidden, NotFound
from lms.files import service as files
from lms.files.routes import StorageDep
from lms.files.schemas import FileId
from lms.pagination import decode_cursor, encode_cursor, link_next
from lms.permissions import Permission, require
from persistence.models import Assignment, File, Rubric

router = APIRouter(prefix="/api/v1", tags=["assignments"])
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Manager = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", max_length=200, pattern=r"^[\x21-\x7e]+$")
]
GRADING_PAGE = 500


def _now() -> datetime:
    return datetime.now(UTC)


async def _grader(
    session: SessionDep, assignment_id: uuid.UUID, principal: Principal
) -> Assignment:
    row = await service.assignment(session, assignment_id)
    await authorize(session, row.course_id, principal, CourseAction.GRADE)
    return row


async def _student(
    session: SessionDep, assignment_id: uuid.UUID, principal: Principal
) -> Assignment:
    row, role = await visible(session, assignment_id, principal)
    if role != CourseRole.STUDENT:
        raise Forbidden("Only the course's students hand in assignments.")
    return row


@router.post(
    "/assignments/{assignment_id}/submissions",
    status_code=status.HTTP_201_CREATED,
    summary="Hand in an assignment",
)
async def submit(
    assignment_id: uuid.UUID,
    body: SubmissionIn,
    request: Request,
    session: SessionDep,
    principal: Reader,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """A new version (earlier ones are kept). Committed before the answer; the same
    ``Idempotency-Key`` again answers the version it made (200)."""
    row = await _student(session, assignment_id, principal)
    made, replay = await submissions.submit(
        session, row, principal.user_id, body, idempotency_key=idempotency_key, now=_now()
    )
    due, _ = await service.dates_for(session, row, principal.user_id)
    shown = (await submissions.out(session, [made], due))[0]
    if not replay:
        audit(session, request, "assignment.submit", target_type="submission", target_id=made.id)
        await session.commit()
    code = status.HTTP_200_OK if replay else status.HTTP_201_CREATED
    return JSONResponse(shown.model_dump(mode="json"), status_code=code)


@router.get("/assignments/{assignment_id}/submissions/mine", summary="My submissions")
async def my_submissions(
    assignment_id: uuid.UUID, session: SessionDep, principal: Reader
) -> MySubmissions:
    """Every version I (or my group) handed in, newest first; grade, rubric and comments
    once my grade is posted."""
    row = await _student(session, assignment_id, principal)
    group_id, _ = await service.group_of(session, row, principal.user_id)
    versions = await submissions.history(session, row.id, group_id or principal.user_id)
    due, _ = await service.dates_for(session, row, principal.user_id)
    mine = await grading.grade_of(session, row.id, principal.user_id)
    posted = mine if mine is not None and mine.posted_at is not None else None
    rubric = await session.get(Rubric, row.rubric_id) if row.rubric_id else None
    return MySubmissions(
        submissions=await submissions.out(session, versions, due),
        grade=grading.grade_out(posted) if posted else None,
        comments=await grading.comments_on(session, [v.id for v in versions]) if posted else [],
        rubric=rubric_out(rubric) if rubric else None,
    )


@router.post("/submissions/{submission_id}/files/{file_id}/link", summary="A submitted file's link")
async def submission_file_link(
    submission_id: uuid.UUID,
    file_id: FileId,
    session: SessionDep,
    principal: Reader,
    storage: StorageDep,
) -> LinkOut:
    """A short-lived signed link (inline where the type allows: PDFs and images preview
    in the browser), for the course's graders and the submission's own students."""
    sub, row = await submissions.owned(session, submission_id)
    _, role = await authorize(session, row.course_id, principal, CourseAction.VIEW)
    if not may(role, CourseAction.GRADE):
        group_id, _ = await service.group_of(session, row, principal.user_id)
        if role != CourseRole.STUDENT or sub.owner_id != (group_id or principal.user_id):
            raise NotFound("No such submission.")
    if file_id not in sub.file_ids:
        raise NotFound("No such file in this submission.")
    found = await session.get(File, file_id)
    if found is None:
        raise NotFound("No such file in this submission.")
    url, expires, disposition = files.link(storage, found, "inline")
    return LinkOut(
        url=url, expires_at=expires, disposition=disposition, content_type=found.content_type
    )


@router.get("/assignments/{assignment_id}/grading", summary="Learners to grade")
async def grading_list(
    assignment_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: Reader,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=GRADING_PAGE)] = GRADING_PAGE,
) -> GradingList:
    """Every student with their state (graded, submitted, missing, not due) and lateness;
    "Student N" and no identity while anonymous."""
    row = await _grader(session, assignment_id, principal)
    found = await grading.learners(session, row, settings.secret_key)
    start = decode_cursor(cursor) or 0
    following = encode_cursor(start + limit) if start + limit < len(found) else None
    link_next(request, response, following)
    shown = grading.entries(row, found, _now())[start : start + limit]
    return GradingList(anonymous=grading.hidden(row), entries=shown, next=following)


@router.get("/assignments/{assignment_id}/grading/{key}", summary="One learner to grade")
async def grading_detail(
    assignment_id: uuid.UUID,
    key: LearnerKey,
    session: SessionDep,
    settings: SettingsDep,
    principal: Reader,
) -> GradingDetail:
    """Their versions (newest first), the comments on them and their grade."""
    row = await _grader(session, assignment_id, principal)
    found = await grading.learners(session, row, settings.secret_key)
    learner = grading.find(found, key)
    entry = next(e for e in grading.entries(row, found, _now()) if e.key == key)
    versions = await submissions.history(session, row.id, learner.owner_id)
    return GradingDetail(
        entry=entry,
        submissions=await submissions.out(session, versions, learner.due_at),
        comments=await grading.comments_on(session, [v.id for v in versions]),
        grade=grading.grade_out(learner.grade) if learner.grade else None,
        due_at=learner.due_at,
    )


@router.put("/assignments/{assignment_id}/grading/{key}", summary="Grade a learner")
async def grade_learner(
    assignment_id: uuid.UUID,
    key: LearnerKey,
    body: GradeIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Manager,
) -> GradingDetail:
    """By rubric levels (their sum) or a score (overrides the rubric); the late policy is
    applied now and stored. A group's members are graded alike unless ``whole_group`` is
    false."""
    row = await _grader(session, assignment_id, principal)
    found = await grading.learners(session, row, settings.secret_key)
    learner = grading.find(found, key)
    made = await grading.grade(session, row, found, learner, body, by=principal.user_id, now=_now())
    audit(
        session,
        request,
        "assignment.grade",
        target_type="assignment",
        target_id=row.id,
        learner=key,
        score=str(made[0].score),
        graded=len(made),
    )
    await session.commit()
    return await grading_detail(assignment_id, key, session, settings, principal)


@router.post(
    "/submissions/{submission_id}/comments",
    status_code=status.HTTP_201_CREATED,
    summary="Comment on a submission",
)
async def add_comment(
    submission_id: uuid.UUID,
    body: CommentIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> CommentOut:
    """On a character range of a text submission (``start``, ``end``) or general."""
    sub, row = await submissions.owned(session, submission_id)
    await authorize(session, row.course_id, principal, CourseAction.GRADE)
    made = await grading.comment(session, sub, body, by=principal.user_id)
    audit(session, request, "assignment.comment", target_type="submission", target_id=sub.id)
    await session.commit()
    return grading.comment_out(made)


@router.post("/assignments/{assignment_id}/reveal", summary="Reveal learners' names")
async def reveal_names(
    assignment_id: uuid.UUID, request: Request, session: SessionDep, principal: Manager
) -> dict[str, bool]:
    """Anonymous grading ends: graders see who is who (instructors only)."""
    row = await service.assignment(session, assignment_id)
    await authorize(session, row.course_id, principal, CourseAction.EDIT)
    if row.names_revealed_at is None:
        row.names_revealed_at = _now()
    audit(session, request, "assignment.reveal", target_type="assignment", target_id=row.id)
    await session.commit()
    return {"names_revealed": True}


@router.post("/assignments/{assignment_id}/post", summary="Post grades")
async def post_grades(
    assignment_id: uuid.UUID, request: Request, session: SessionDep, principal: Manager
) -> dict[str, int]:
    """Students see their grade, rubric and comments (instructors only)."""
    row = await service.assignment(session, assignment_id)
    await authorize(session, row.course_id, principal, CourseAction.EDIT)
    users = await grading.post(session, row, _now())
    audit(
        session,
        request,
        "assignment.post",
        target_type="assignment",
        target_id=row.id,
        posted=len(users),
    )
    await session.commit()
    return {"posted": len(users)}
