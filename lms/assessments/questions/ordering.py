"""Ordering: put items in the right order, with configurable partial credit.

``all_or_nothing``; ``longest_subsequence``: (L - 1) / (n - 1) where L is the longest run
of items, not necessarily adjacent, already in the right relative order (so a reversed list
earns nothing); ``pairwise``: the fraction of item pairs in the right relative order. The
student always sees the items scrambled, never in the answer's order.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Annotated, Literal

from pydantic import Field, model_validator

from lms.assessments.errors import InvalidResponse
from lms.assessments.questions.base import (
    MAX_CHOICES,
    Choice,
    Definition,
    Id,
    Response,
    View,
    ViewItem,
    duplicates,
)
from lms.assessments.questions.kinds import QuestionType
from lms.assessments.questions.results import GradeResult, PartResult, result
from lms.assessments.questions.shuffle import Presentation, Translator, arrange, scrambled, tokens

ITEMS = "items"


class Ordering(Definition):
    """Items listed in their right order."""

    type: Literal["ordering"] = "ordering"
    items: Annotated[list[Choice], Field(min_length=2, max_length=MAX_CHOICES)]
    scoring: Literal["all_or_nothing", "longest_subsequence", "pairwise"] = "longest_subsequence"

    @model_validator(mode="after")
    def _unique(self) -> Ordering:
        if duplicates([item.id for item in self.items]):
            raise ValueError("item ids must be unique")
        return self


class OrderingView(View):
    """An ordering question as the student sees it: the items scrambled."""

    type: Literal["ordering"] = "ordering"
    items: list[ViewItem]


class OrderingResponse(Response):
    """The items in the student's order (tokens; ids once translated)."""

    order: Annotated[list[Id], Field(max_length=MAX_CHOICES)] = []


def _present(definition: Ordering, seed: str) -> tuple[View, Presentation]:
    shown = arrange(definition.items, scrambled(seed, ITEMS, len(definition.items)))
    mapping = tokens("i", [item.id for item in shown])
    view = OrderingView(
        prompt=definition.prompt,
        points=definition.points,
        items=[
            ViewItem(token=token, text=item.text)
            for token, item in zip(mapping, shown, strict=True)
        ],
    )
    return view, Presentation({ITEMS: mapping})


def _translate(response: OrderingResponse, translate: Translator) -> OrderingResponse:
    found = [translate(ITEMS, token) for token in response.order]
    return OrderingResponse(order=[item for item in found if item is not None])


def _check(definition: Ordering, response: OrderingResponse) -> None:
    if not response.order:
        return  # not answered yet
    if sorted(response.order) != sorted(item.id for item in definition.items):
        raise InvalidResponse("the order must list every item exactly once")


def longest_increasing(values: list[int]) -> int:
    """Length of the longest strictly increasing subsequence (patience sorting)."""
    tails: list[int] = []
    for value in values:
        at = bisect_left(tails, value)
        if at == len(tails):
            tails.append(value)
        else:
            tails[at] = value
    return len(tails)


def _positions(definition: Ordering, response: OrderingResponse) -> list[int]:
    """The right positions of the answered items, in the student's order (unknown and
    repeated items dropped)."""
    rank = {item.id: i for i, item in enumerate(definition.items)}
    seen: set[str] = set()
    positions = []
    for item in response.order:
        if item in rank and item not in seen:
            seen.add(item)
            positions.append(rank[item])
    return positions


def grade_ordering(definition: Ordering, response: OrderingResponse) -> GradeResult:
    """Credit by the definition's ``scoring``; one part per item in its right place."""
    n = len(definition.items)
    positions = _positions(definition, response)
    if definition.scoring == "all_or_nothing":
        credit = 1.0 if positions == list(range(n)) else 0.0
    elif definition.scoring == "longest_subsequence":
        credit = (longest_increasing(positions) - 1) / (n - 1) if positions else 0.0
    else:
        in_order = sum(
            1
            for i, first in enumerate(positions)
            for second in positions[i + 1 :]
            if first < second
        )
        credit = in_order / (n * (n - 1) / 2)
    placed = dict(enumerate(positions))
    parts = [
        PartResult(
            part=item.id,
            credit=1.0 if placed.get(i) == i else 0.0,
            correct=placed.get(i) == i,
        )
        for i, item in enumerate(definition.items)
    ]
    return result(definition.points, credit, parts)


ORDERING = QuestionType(
    name="ordering",
    definition=Ordering,
    response=OrderingResponse,
    present=_present,
    grade=grade_ordering,
    translate=_translate,
    check=_check,
)
