"""Queueing Python code answers for the sandbox: the ``assessments.grade_code`` job's type
and ``enqueue_code_runs``, which submission and regrade call in their transaction (the
handler, which runs the code and records the grade, is ``code_grading``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from jobs.queue import enqueue
from jobs.types import JobContext, JobType
from persistence.models import AttemptAnswer


async def _unbound(ctx: JobContext) -> None:
    raise RuntimeError("assessments.grade_code runs with the handler grade_code_job binds")


GRADE_CODE = JobType(
    "assessments.grade_code",
    _unbound,
    max_attempts=5,
    timeout=120.0,  # a run's own limit is at most 30 s, plus the wait for a worker
    summary="run a Python code answer against its question's tests in the sandbox",
)
"""The job; ``grade_code_job`` binds its handler to a pool of sandbox workers."""


async def enqueue_code_runs(
    session: AsyncSession,
    rows: Iterable[AttemptAnswer],
    kinds: Mapping[uuid.UUID, str],
    *,
    regrade_by: uuid.UUID | None = None,
) -> None:
    """Add a sandbox run for each answered code question among ``rows`` (``kinds``: each
    question's type by id) that no person has graded (one attempt's runs go one at a time,
    in order)."""
    for row in rows:
        if row.response is None or row.graded_by is not None:
            continue
        if kinds.get(row.question_id) != "python_code":
            continue
        args = {"answer_id": str(row.id)}
        if regrade_by is not None:
            args["regrade_by"] = str(regrade_by)
        await enqueue(session, GRADE_CODE, args, ordering_key=f"attempt:{row.attempt_id}")
