"""Python code answers graded by the sandbox, in a job after the attempt is submitted.

Submission cannot wait for the sandbox (seconds per answer, under an exam's load): the
core leaves a code answer ``pending`` and ``code_runs.enqueue_code_runs`` adds one
``assessments.grade_code`` job per answer, in the submission's transaction. The job reads
the answer, runs the code against every test of the question's current definition
(``lms.assessments.sandbox.run_code``, outside any transaction), then records the grade
(``grading.record_code_grade``: the attempt's total, its event and the gradebook).

A sandbox error (our fault) fails the job, which is retried with a growing delay; after
the last try the answer stays pending, for a grader. A key change re-runs the answer
(``regrade``): the earlier score stands until the new one is recorded.
"""

from __future__ import annotations

import dataclasses
import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.types import JobContext, JobType
from lms.assessments.code_runs import GRADE_CODE
from lms.assessments.grading import record_code_grade
from lms.assessments.questions import parse_definition
from lms.assessments.questions.python_code import PythonCode, PythonCodeResponse, grade_run
from lms.assessments.sandbox import SandboxPool, run_code
from persistence.models import AttemptAnswer, Question
from persistence.models.base import utcnow


class SandboxUnavailable(RuntimeError):
    """The sandbox could not run the code (our fault): the job is tried again later."""


def grade_code_job(pool: SandboxPool) -> JobType:
    """``assessments.grade_code`` running on ``pool``."""

    async def grade_code(ctx: JobContext) -> None:
        regrade_by = ctx.args.get("regrade_by")
        await grade_answer(
            ctx.sessions,
            pool,
            uuid.UUID(str(ctx.args["answer_id"])),
            regrade_by=uuid.UUID(regrade_by) if regrade_by else None,
        )

    return dataclasses.replace(GRADE_CODE, handler=grade_code)


async def grade_answer(
    sessions: async_sessionmaker[AsyncSession],
    pool: SandboxPool,
    answer_id: uuid.UUID,
    *,
    regrade_by: uuid.UUID | None = None,
) -> None:
    """Run one code answer in the sandbox and record its grade (nothing if a person has
    graded it meanwhile, or it is gone)."""
    async with sessions() as session:
        row = await session.get(AttemptAnswer, answer_id)
        if row is None or row.graded_by is not None or row.response is None:
            return
        question = await session.get(Question, row.question_id)
        if question is None:
            return
        definition = parse_definition(question.definition)
        version = question.version
        response = row.response
    if not isinstance(definition, PythonCode):
        return
    code = PythonCodeResponse.model_validate(response).code
    run = await run_code(definition, code, pool=pool)
    if run.status == "sandbox_error":
        raise SandboxUnavailable(run.output or "the sandbox could not run the code")
    graded = grade_run(definition, run)
    result = {**graded.model_dump(mode="json"), "run": run.model_dump(mode="json")}
    async with sessions() as session:
        await record_code_grade(
            session,
            answer_id,
            score=graded.score,
            points=definition.points,
            result=result,
            version=version,
            regrade_by=regrade_by,
            now=utcnow(),
        )
        await session.commit()
