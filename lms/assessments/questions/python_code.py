"""Python code questions: the definition (starter code, tests as data) and the shape of a
sandbox run's result. Running code is not done here: the sandbox (WASI CPython under
wasmtime in a worker) runs the student's code against the tests and reports a ``CodeRun``;
``grade_run`` turns that report into a score.

Hidden tests are key material: a student sees the visible tests' source, only the number
of hidden ones, and after a run, a hidden test's name and verdict, never its source or its
failure message (which could quote the expected value).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from lms.assessments.questions.base import Definition, Id, NonEmptyText, Response, View
from lms.assessments.questions.kinds import QuestionType, unchecked, untranslated
from lms.assessments.questions.results import (
    GradeResult,
    PartResult,
    result,
    weighted_credit,
)
from lms.assessments.questions.shuffle import Presentation

MAX_CODE = 64_000
"""Characters of starter code, of a test, and of the code a student sends."""
MAX_TESTS = 100
MAX_MESSAGE = 2_000

Code = Annotated[str, StringConstraints(max_length=MAX_CODE)]

RunStatus = Literal[
    "completed",  # the tests ran; each test says whether it passed
    "timeout",  # wall clock or CPU (fuel) exhausted
    "memory",  # the memory limit was hit
    "output_limit",  # printed more than allowed
    "forbidden",  # imported a forbidden module or used a refused capability
    "syntax_error",  # the code does not compile
    "crashed",  # the interpreter died
    "sandbox_error",  # our fault: the sandbox could not run it; retry, then a grader
]


class CodeTest(BaseModel):
    """One test: Python source run after the student's code (assertions), and its weight."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    name: NonEmptyText
    source: Code
    weight: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)] = 1.0
    hidden: bool = True


class Limits(BaseModel):
    """What one run may use; the sandbox enforces them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    wall_ms: Annotated[int, Field(ge=100, le=30_000)] = 5_000
    memory_mb: Annotated[int, Field(ge=16, le=1_024)] = 128
    output_bytes: Annotated[int, Field(ge=1_024, le=1 << 20)] = 64 << 10


class PythonCode(Definition):
    """A Python exercise graded by tests in the sandbox."""

    type: Literal["python_code"] = "python_code"
    starter_code: Code = ""
    tests: Annotated[list[CodeTest], Field(min_length=1, max_length=MAX_TESTS)]
    limits: Limits = Limits()
    forbidden_modules: Annotated[
        list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_.]{0,99}$")]],
        Field(max_length=100),
    ] = ["os", "subprocess", "socket", "ctypes", "multiprocessing", "threading"]

    @model_validator(mode="after")
    def _unique_tests(self) -> PythonCode:
        ids = [test.id for test in self.tests]
        if len(set(ids)) != len(ids):
            raise ValueError("test ids must be unique")
        return self


class VisibleTest(BaseModel):
    """A visible test as the student sees it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    source: str


class PythonCodeView(View):
    """A code question as the student sees it."""

    type: Literal["python_code"] = "python_code"
    starter_code: str
    visible_tests: list[VisibleTest]
    hidden_tests: int


class PythonCodeResponse(Response):
    """The student's code."""

    code: Code = ""


class RunOutcome(BaseModel):
    """One test's verdict in a run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    passed: bool
    message: Annotated[str, StringConstraints(max_length=MAX_MESSAGE)] = ""


class CodeRun(BaseModel):
    """What the sandbox reports for one run of a response."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: RunStatus
    tests: Annotated[list[RunOutcome], Field(max_length=MAX_TESTS)] = []
    output: Annotated[str, StringConstraints(max_length=MAX_MESSAGE)] = ""
    duration_ms: Annotated[int, Field(ge=0)] = 0


STATUS_FEEDBACK: dict[str, str] = {
    "timeout": "The code ran out of time (an endless loop?).",
    "memory": "The code used too much memory.",
    "output_limit": "The code printed too much.",
    "forbidden": "The code uses a module or feature that is not allowed here.",
    "syntax_error": "The code does not compile.",
    "crashed": "The code crashed the interpreter.",
}


def grade_pending(definition: PythonCode, _response: PythonCodeResponse) -> GradeResult:
    """Before the sandbox has run: zero, pending."""
    return result(definition.points, 0.0, status="pending", feedback="Waiting for the tests.")


def grade_run(definition: PythonCode, run: CodeRun) -> GradeResult:
    """A score from a sandbox run: the weighted share of tests passed. Only a completed run
    earns credit; a sandbox error stays pending. A hidden test's message is dropped."""
    if run.status == "sandbox_error":
        return result(definition.points, 0.0, status="pending", feedback="Could not run.")
    outcomes = {test.id: test for test in run.tests} if run.status == "completed" else {}
    parts = []
    weighted = []
    for test in definition.tests:
        outcome = outcomes.get(test.id)
        passed = outcome is not None and outcome.passed
        message = None if test.hidden or outcome is None else (outcome.message or None)
        weighted.append((test.weight, 1.0 if passed else 0.0))
        credit = 1.0 if passed else 0.0
        parts.append(PartResult(part=test.id, credit=credit, correct=passed, feedback=message))
    feedback = STATUS_FEEDBACK.get(run.status)
    return result(definition.points, weighted_credit(weighted), parts, feedback=feedback)


def _present(definition: PythonCode, _seed: str) -> tuple[View, Presentation]:
    view = PythonCodeView(
        prompt=definition.prompt,
        points=definition.points,
        starter_code=definition.starter_code,
        visible_tests=[
            VisibleTest(name=test.name, source=test.source)
            for test in definition.tests
            if not test.hidden
        ],
        hidden_tests=sum(1 for test in definition.tests if test.hidden),
    )
    return view, Presentation()


PYTHON_CODE = QuestionType(
    name="python_code",
    definition=PythonCode,
    response=PythonCodeResponse,
    present=_present,
    grade=grade_pending,
    translate=untranslated,
    check=unchecked,
)
