"""Rubrics: criteria with levels and points, checked when written and when used to grade.

Pure: rows and bodies in, Decimals out. A rubric's points are the sum of each criterion's
best level; grading picks one level per criterion (any criterion left out scores 0).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lms.assignments.errors import InvalidRubric
from lms.assignments.schemas import CriterionIn, RubricIn


def check(body: RubricIn) -> list[dict[str, Any]]:
    """The criteria of ``body`` as stored (ids unique); refuse duplicated ids."""
    seen: set[str] = set()
    for criterion in body.criteria:
        if criterion.id in seen:
            raise InvalidRubric(f"Criterion id {criterion.id!r} appears twice.")
        seen.add(criterion.id)
        levels = {level.id for level in criterion.levels}
        if len(levels) != len(criterion.levels):
            raise InvalidRubric(f"Criterion {criterion.id!r} repeats a level id.")
    return [c.model_dump(mode="json") for c in body.criteria]


def criteria_of(stored: list[Any]) -> list[CriterionIn]:
    """The stored criteria as models."""
    return [CriterionIn.model_validate(c) for c in stored]


def points_of(criteria: list[CriterionIn]) -> Decimal:
    """The most a rubric gives: each criterion's best level, summed."""
    return sum((max(level.points for level in c.levels) for c in criteria), Decimal(0))


def score(criteria: list[CriterionIn], chosen: dict[str, str]) -> Decimal:
    """The points of the chosen levels; an unknown criterion or level is refused."""
    by_id = {c.id: {level.id: level.points for level in c.levels} for c in criteria}
    total = Decimal(0)
    for criterion_id, level_id in chosen.items():
        levels = by_id.get(criterion_id)
        if levels is None:
            raise InvalidRubric(f"The rubric has no criterion {criterion_id!r}.")
        if level_id not in levels:
            raise InvalidRubric(f"Criterion {criterion_id!r} has no level {level_id!r}.")
        total += levels[level_id]
    return total
