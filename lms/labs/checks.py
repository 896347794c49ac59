"""Checking a step for credit: the server runs the step's hidden tests against the
learner's file as it is now, in the sandbox (``lms.assessments.sandbox.run_code``, worker
processes, never this process); that result is the one that counts.

A pass records the step's completion once, moves the learner's current step on, puts the
lab's score (the points of the completed steps) in its gradebook column, and when every
step is done counts the lab's module items as submitted (progress). Each check is in the
learner's timeline and becomes the grid's "last check".
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import emit
from lms.assessments.questions.python_code import CodeRun, CodeTest, Limits, PythonCode
from lms.content import progress
from lms.errors import InvalidInput
from lms.gradebook import service as gradebook
from lms.labs.events import STEP_COMPLETED, StepCompleted
from lms.labs.schemas import CheckOut, TestResult
from lms.labs.service import completed_steps, note_activity, points_of, workspace_of
from persistence.models import Lab, LabCompletion


def step_of(lab: Lab, step_id: str) -> tuple[int, dict[str, Any]]:
    """A step's position and definition, or 422."""
    for index, step in enumerate(lab.steps):
        if step["id"] == step_id:
            return index, step
    raise InvalidInput("The lab has no such step.")


def file_of(lab: Lab, step: dict[str, Any]) -> str:
    """The file a step's tests run."""
    names = [str(f["name"]) for f in lab.files]
    return str(step.get("file") or (names[0] if names else "main.py"))


def definition_of(step: dict[str, Any]) -> PythonCode:
    """The step's tests as a code question the sandbox runs (every test hidden)."""
    return PythonCode(
        prompt="",
        points=max(1, int(step.get("points", 1))),
        tests=[
            CodeTest(id=t["id"], name=t["name"], source=t["source"], hidden=True)
            for t in step["tests"]
        ],
        limits=Limits(wall_ms=5_000),
    )


async def ensure_column(session: AsyncSession, lab: Lab) -> uuid.UUID:
    """The lab's gradebook column, created or brought up to date."""
    return await gradebook.ensure_column(
        session,
        course_id=lab.course_id,
        source="lab",
        source_id=lab.id,
        title=lab.title,
        points_possible=Decimal(points_of(lab)),
    )


async def record(
    session: AsyncSession,
    lab: Lab,
    user_id: uuid.UUID,
    step_id: str,
    run: CodeRun,
    now: datetime,
) -> CheckOut:
    """Record a check's result (the caller runs the code and commits)."""
    index, step = step_of(lab, step_id)
    outcomes = {t.id: t.passed for t in run.tests}
    tests = [
        TestResult(id=t["id"], name=t["name"], passed=outcomes.get(t["id"], False))
        for t in step["tests"]
    ]
    passed = run.status == "completed" and all(t.passed for t in tests)
    await note_activity(
        session, lab.id, user_id, "checked", now, step_id=step_id, passed=passed, status=run.status
    )
    workspace = await workspace_of(session, lab.id, user_id)
    if workspace is None:
        raise InvalidInput("Open your workspace first.")
    workspace.last_check = {
        "step_id": step_id,
        "passed": passed,
        "status": run.status,
        "at": now.isoformat(),
    }
    done = await completed_steps(session, lab.id, user_id)
    if passed and step_id not in done:
        completion = LabCompletion(
            lab_id=lab.id,
            user_id=user_id,
            step_id=step_id,
            points=int(step.get("points", 0)),
            completed_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(completion)
            done.add(step_id)
            await _credit(session, lab, user_id, step_id, int(step.get("points", 0)), done, now)
        except IntegrityError:
            done.add(step_id)  # a concurrent check of the same step recorded it
    if passed:
        order = [str(s["id"]) for s in lab.steps]
        following = [i for i, sid in enumerate(order) if sid not in done]
        moved = following[0] if following else len(order) - 1
        if moved != workspace.current_step:
            workspace.current_step = moved
            workspace.progressed_at = now
    return CheckOut(
        step_id=step_id,
        passed=passed,
        status=run.status,
        tests=tests,
        output=run.output,
        duration_ms=run.duration_ms,
        points=int(step.get("points", 0)) if passed else 0,
        completed=step_id in done,
        current_step=workspace.current_step if index >= 0 else 0,
    )


async def _credit(
    session: AsyncSession,
    lab: Lab,
    user_id: uuid.UUID,
    step_id: str,
    points: int,
    done: set[str],
    now: datetime,
) -> None:
    """The gradebook, progress and the event for a newly completed step."""
    column = await ensure_column(session, lab)
    total = await session.scalar(
        select(func.coalesce(func.sum(LabCompletion.points), 0)).where(
            LabCompletion.lab_id == lab.id, LabCompletion.user_id == user_id
        )
    )
    await gradebook.record_score(
        session,
        column_id=column,
        user_id=user_id,
        score=Decimal(int(total or 0)),
        actor_id=None,
        reason="lab checkpoint passed",
        submitted_at=now,
    )
    complete = all(str(s["id"]) in done for s in lab.steps)
    if complete:
        await progress.mark_submitted(session, "lab", lab.id, user_id, now)
    payload = StepCompleted(
        lab_id=lab.id,
        course_id=lab.course_id,
        user_id=user_id,
        step_id=step_id,
        points=points,
        lab_completed=complete,
        at=now,
    )
    await emit(session, STEP_COMPLETED, payload, aggregate_id=f"{lab.course_id}:{user_id}")
