"""Math answers: an expression checked for symbolic equivalence with the key (SymPy).

The student's text is read by ``math_syntax`` (whitelisted names only, rewritten before
SymPy sees it) and compared in a worker process by ``math_guard``; an expression the
guard cannot finish with (``x**(10**10)``, a check past its deadline) is ``unchecked``
for a grader, never a stuck request. The key is checked lexically when the definition is
validated; ``check_key`` parses it with SymPy for the authoring service.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from lms.assessments.questions.base import Answer, Definition, Response, View
from lms.assessments.questions.kinds import QuestionType, unchecked, untranslated
from lms.assessments.questions.math_guard import MathGuard, Verdict, default_guard
from lms.assessments.questions.math_syntax import (
    MAX_EXPRESSION,
    MAX_VARIABLES,
    MathSyntaxError,
    check_variables,
    read,
)
from lms.assessments.questions.results import GradeResult, PartResult, result
from lms.assessments.questions.shuffle import Presentation

UNCHECKED = "This answer could not be checked automatically; a grader will."


class MathAnswer(Definition):
    """A question answered by an expression over ``variables``."""

    type: Literal["math"] = "math"
    answer: Annotated[str, StringConstraints(min_length=1, max_length=MAX_EXPRESSION)]
    variables: Annotated[list[str], Field(max_length=MAX_VARIABLES)] = ["x"]
    rel_tol: Annotated[float, Field(ge=0, le=0.1, allow_inf_nan=False)] = 1e-9
    """Relative tolerance of the numeric comparison (raise it for a decimal key)."""

    @field_validator("variables")
    @classmethod
    def _plain_variables(cls, value: list[str]) -> list[str]:
        check_variables(value)
        return value

    @model_validator(mode="after")
    def _key_reads(self) -> MathAnswer:
        try:
            read(self.answer, self.variables)
        except MathSyntaxError as exc:
            raise ValueError(f"the answer key: {exc}") from None
        return self


class MathView(View):
    """A math question as the student sees it: the variables it may use."""

    type: Literal["math"] = "math"
    variables: list[str]


class MathResponse(Response):
    """The expression as typed."""

    expression: Answer = ""


def _seed(definition: MathAnswer) -> str:
    """Points for the numeric check, fixed per key (the same answer grades the same)."""
    return hashlib.sha256(definition.answer.encode()).hexdigest()


def compare(definition: MathAnswer, text: str, guard: MathGuard) -> Verdict:
    """How ``text`` compares with the key (never raises)."""
    try:
        given = read(text, definition.variables)
    except MathSyntaxError as exc:
        return Verdict("invalid", "syntax", str(exc))
    expected = read(definition.answer, definition.variables)
    if given == expected:
        return Verdict("equivalent", "same")
    return guard.check(
        expected.source,
        given.source,
        variables=len(definition.variables),
        rel_tol=definition.rel_tol,
        seed=_seed(definition),
    )


def grade_math_with(
    definition: MathAnswer, response: MathResponse, guard: MathGuard
) -> GradeResult:
    """Full credit for an equivalent expression; unchecked when the guard gave up."""
    if not response.expression.strip():
        return result(definition.points, 0.0, feedback="No answer.")
    verdict = compare(definition, response.expression, guard)
    if verdict.kind == "unchecked":
        part = PartResult(part="expression", credit=0.0, feedback=UNCHECKED)
        return result(definition.points, 0.0, [part], status="unchecked")
    right = verdict.kind == "equivalent"
    feedback = verdict.detail if verdict.kind == "invalid" else None
    part = PartResult(
        part="expression", credit=1.0 if right else 0.0, correct=right, feedback=feedback
    )
    return result(definition.points, part.credit, [part])


def grade_math(definition: MathAnswer, response: MathResponse) -> GradeResult:
    """``grade_math_with`` the process's shared guard."""
    return grade_math_with(definition, response, default_guard())


def check_key(definition: MathAnswer, guard: MathGuard | None = None) -> str | None:
    """Why SymPy cannot use the key (None when it can): for the question editor."""
    verdict = (guard or default_guard()).check(
        read(definition.answer, definition.variables).source,
        "0",
        variables=len(definition.variables),
        rel_tol=definition.rel_tol,
        seed=_seed(definition),
    )
    return verdict.detail if verdict.method in ("key", "timeout", "crashed", "worker") else None


def _present(definition: MathAnswer, _seed_text: str) -> tuple[View, Presentation]:
    view = MathView(
        prompt=definition.prompt, points=definition.points, variables=definition.variables
    )
    return view, Presentation()


MATH = QuestionType(
    name="math",
    definition=MathAnswer,
    response=MathResponse,
    present=_present,
    grade=grade_math,
    translate=untranslated,
    check=unchecked,
)
