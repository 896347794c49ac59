"""The result of grading one response: a score in [0, points], why, and whether a person
must look at it.

``status`` says how far automatic grading got: ``graded`` (final), ``manual`` (essay, file:
a grader scores it), ``unchecked`` (a guard stopped the check: a pattern or an expression
that would not finish; a grader decides) and ``pending`` (code waiting for the sandbox).
``needs_manual`` is true for every status but ``graded``. Results name parts by the
author's ids and carry feedback and key material: they are for the server and for a student
only after the release policy allows.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict

Status = Literal["graded", "manual", "unchecked", "pending"]


class PartResult(BaseModel):
    """One part of a response: a choice, a blank, a pair, a test."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    part: str
    credit: float
    """This part's fraction of its own weight, 0 to 1."""
    correct: bool | None = None
    """None when the part was not checked (unchecked, manual)."""
    feedback: str | None = None


class GradeResult(BaseModel):
    """A graded response (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    score: float
    points: float
    status: Status = "graded"
    parts: tuple[PartResult, ...] = ()
    feedback: str | None = None

    @property
    def needs_manual(self) -> bool:
        """True when a person (or the sandbox) still has to decide the score."""
        return self.status != "graded"

    @property
    def credit(self) -> float:
        """The score as a fraction of the points."""
        return self.score / self.points if self.points else 0.0


def clamp_credit(credit: float) -> float:
    """``credit`` forced into [0, 1] (NaN becomes 0)."""
    if math.isnan(credit):
        return 0.0
    return min(1.0, max(0.0, credit))


def result(
    points: float,
    credit: float,
    parts: list[PartResult] | tuple[PartResult, ...] = (),
    *,
    status: Status = "graded",
    feedback: str | None = None,
) -> GradeResult:
    """A result scoring ``credit`` of ``points``, always within [0, points]."""
    score = round(points * clamp_credit(credit), 6)
    return GradeResult(
        score=min(points, max(0.0, score)),
        points=points,
        status=status,
        parts=tuple(parts),
        feedback=feedback,
    )


def weighted_credit(parts: list[tuple[float, float]]) -> float:
    """The weighted mean credit of ``(weight, credit)`` pairs; 0 when they weigh nothing."""
    total = sum(weight for weight, _ in parts)
    if total <= 0:
        return 0.0
    return clamp_credit(sum(weight * clamp_credit(credit) for weight, credit in parts) / total)
