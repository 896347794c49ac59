"""Practice runs REST: a learner tries their code for a code question of their open attempt
against the question's visible tests, in the sandbox, before submitting. Nothing is saved
or graded; hidden tests never enter the sandbox for it. Throttled per person (429), and
refused with 503 when the sandbox's waiting line is full."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from lms.assessments import access, attempts, grading
from lms.assessments.errors import AttemptClosed
from lms.assessments.questions import parse_definition
from lms.assessments.questions.python_code import CodeRun, PythonCode
from lms.assessments.sandbox import practice_run
from lms.assessments.schemas import RunIn
from lms.auth import Principal
from lms.deps import PracticeThrottleDep, SandboxDep, SessionDep
from lms.errors import Forbidden, InvalidInput
from lms.permissions import Permission, require
from persistence.models import Question
from persistence.models.base import utcnow

router = APIRouter(prefix="/api/v1", tags=["quizzes"])
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]


@router.post(
    "/attempts/{attempt_id}/questions/{question_id}/run",
    summary="Try my code against the visible tests",
)
async def run_my_code(
    attempt_id: uuid.UUID,
    question_id: uuid.UUID,
    body: RunIn,
    session: SessionDep,
    principal: Reader,
    pool: SandboxDep,
    throttle: PracticeThrottleDep,
) -> CodeRun:
    """The run's status, the visible tests' verdicts and the output; only the learner of an
    open attempt, only for a code question the attempt was given."""
    target, _ = await access.attempt_for(session, attempt_id, principal)
    if target.user_id != principal.user_id:
        raise Forbidden("Only the learner runs code in an attempt.")
    if target.active_user_id is None or attempts.is_due(target, utcnow()):
        raise AttemptClosed("The attempt is over; its code can no longer be run.")
    given = {row.question_id for row in await grading.answers_of(session, target)}
    question = await session.get(Question, question_id) if question_id in given else None
    if question is None:
        raise InvalidInput("The attempt was not given this question.")
    definition = parse_definition(question.definition)
    if not isinstance(definition, PythonCode):
        raise InvalidInput("This is not a code question.")
    person = str(principal.user_id)
    # No transaction (nor SQLite's write lock) is held while the code runs.
    await session.rollback()
    return await practice_run(definition, body.code, person=person, pool=pool, throttle=throttle)
