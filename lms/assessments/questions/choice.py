"""Choice questions: single choice, multiple choice (three partial-credit rules) and
true/false.

The key names choices by the author's ids; the student sees the choices (shuffled unless
the author fixed the order, pinned ones staying in place) under per-attempt tokens, and
never which are correct nor the per-choice feedback.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lms.assessments.errors import InvalidResponse
from lms.assessments.questions.base import (
    MAX_CHOICES,
    Definition,
    Id,
    NonEmptyText,
    Response,
    Text,
    View,
    ViewItem,
    duplicates,
)
from lms.assessments.questions.kinds import QuestionType, untranslated
from lms.assessments.questions.results import GradeResult, PartResult, result
from lms.assessments.questions.shuffle import (
    Presentation,
    Translator,
    arrange,
    pinned_permutation,
    tokens,
)

CHOICES = "choices"


class AuthorChoice(BaseModel):
    """A choice as the author writes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    text: NonEmptyText
    feedback: Text | None = None
    """Shown when the student picked this choice, once results are released."""
    pin: bool = False
    """Keep this choice at its place when shuffling (e.g. "None of the above")."""


Choices = Annotated[list[AuthorChoice], Field(min_length=2, max_length=MAX_CHOICES)]


class _ChoiceBase(Definition):
    choices: Choices
    shuffle: bool = True

    @model_validator(mode="after")
    def _unique_ids(self) -> _ChoiceBase:
        twice = duplicates([choice.id for choice in self.choices])
        if twice:
            raise ValueError(f"choice ids must be unique: {', '.join(twice)}")
        return self

    def choice_ids(self) -> set[str]:
        """The author's ids of the choices."""
        return {choice.id for choice in self.choices}


class SingleChoice(_ChoiceBase):
    """One correct choice among several."""

    type: Literal["single_choice"] = "single_choice"
    answer: Id

    @model_validator(mode="after")
    def _answer_exists(self) -> SingleChoice:
        if self.answer not in self.choice_ids():
            raise ValueError(f"the answer {self.answer!r} is not one of the choices")
        return self


class MultipleChoice(_ChoiceBase):
    """Any number of correct choices (at least one); ``scoring`` decides partial credit.

    ``all_or_nothing``: full credit only for exactly the correct set. ``right_minus_wrong``:
    (correct picked - wrong picked) / correct choices, at least 0. ``per_choice``: each
    choice is a true/false judgement; credit is the fraction judged right.
    """

    type: Literal["multiple_choice"] = "multiple_choice"
    answers: Annotated[list[Id], Field(min_length=1, max_length=MAX_CHOICES)]
    scoring: Literal["all_or_nothing", "right_minus_wrong", "per_choice"] = "right_minus_wrong"

    @model_validator(mode="after")
    def _answers_exist(self) -> MultipleChoice:
        if duplicates(self.answers):
            raise ValueError("the answers name a choice twice")
        missing = [answer for answer in self.answers if answer not in self.choice_ids()]
        if missing:
            raise ValueError(f"the answers {missing} are not choices")
        return self


class TrueFalse(Definition):
    """A statement the student marks true or false."""

    type: Literal["true_false"] = "true_false"
    answer: bool
    feedback_true: Text | None = None
    feedback_false: Text | None = None


class ChoiceView(View):
    """A choice question as the student sees it."""

    type: Literal["single_choice", "multiple_choice"]
    choices: list[ViewItem]


class TrueFalseView(View):
    """A true/false question as the student sees it."""

    type: Literal["true_false"] = "true_false"


class SingleResponse(Response):
    """The picked choice (a token in the view, an id once translated); None: no answer."""

    choice: Id | None = None


class MultipleResponse(Response):
    """The picked choices."""

    choices: Annotated[list[Id], Field(max_length=MAX_CHOICES)] = []


class TrueFalseResponse(Response):
    """True, false, or None for no answer."""

    answer: bool | None = None


def _present_choices(
    definition: SingleChoice | MultipleChoice, seed: str
) -> tuple[View, Presentation]:
    order = list(range(len(definition.choices)))
    if definition.shuffle:
        order = pinned_permutation(seed, CHOICES, [c.pin for c in definition.choices])
    shown = arrange(definition.choices, order)
    mapping = tokens("c", [choice.id for choice in shown])
    items = [
        ViewItem(token=token, text=choice.text)
        for token, choice in zip(mapping, shown, strict=True)
    ]
    view = ChoiceView(
        type=definition.type, prompt=definition.prompt, points=definition.points, choices=items
    )
    return view, Presentation({CHOICES: mapping})


def _translate_single(response: SingleResponse, translate: Translator) -> SingleResponse:
    if response.choice is None:
        return response
    return SingleResponse(choice=translate(CHOICES, response.choice))


def _translate_multiple(response: MultipleResponse, translate: Translator) -> MultipleResponse:
    found = [translate(CHOICES, choice) for choice in response.choices]
    return MultipleResponse(choices=[choice for choice in found if choice is not None])


def _check_single(definition: SingleChoice, response: SingleResponse) -> None:
    if response.choice is not None and response.choice not in definition.choice_ids():
        raise InvalidResponse(f"no choice {response.choice!r} in this question")


def _check_multiple(definition: MultipleChoice, response: MultipleResponse) -> None:
    if duplicates(response.choices):
        raise InvalidResponse("a choice is picked twice")
    unknown = set(response.choices) - definition.choice_ids()
    if unknown:
        raise InvalidResponse(f"no choices {sorted(unknown)} in this question")


def grade_single(definition: SingleChoice, response: SingleResponse) -> GradeResult:
    """Full credit for the answer, none otherwise; the picked choice's feedback."""
    picked = next((c for c in definition.choices if c.id == response.choice), None)
    if picked is None:
        return result(definition.points, 0.0, feedback="No answer.")
    right = picked.id == definition.answer
    part = PartResult(
        part=picked.id, credit=1.0 if right else 0.0, correct=right, feedback=picked.feedback
    )
    return result(definition.points, part.credit, [part])


def grade_multiple(definition: MultipleChoice, response: MultipleResponse) -> GradeResult:
    """Credit by the definition's ``scoring`` rule; one part per choice picked or correct."""
    picked = set(response.choices) & definition.choice_ids()
    key = set(definition.answers)
    wrong_total = len(definition.choices) - len(key)
    right_picked = len(picked & key)
    wrong_picked = len(picked - key)
    if definition.scoring == "all_or_nothing":
        credit = 1.0 if picked == key else 0.0
    elif definition.scoring == "right_minus_wrong":
        credit = (right_picked - wrong_picked) / len(key)
    else:
        judged = right_picked + (wrong_total - wrong_picked)
        credit = judged / len(definition.choices)
    parts = [
        PartResult(
            part=choice.id,
            credit=1.0 if (choice.id in picked) == (choice.id in key) else 0.0,
            correct=(choice.id in picked) == (choice.id in key),
            feedback=choice.feedback if choice.id in picked else None,
        )
        for choice in definition.choices
        if choice.id in picked or choice.id in key
    ]
    return result(definition.points, credit, parts)


def grade_true_false(definition: TrueFalse, response: TrueFalseResponse) -> GradeResult:
    """Full credit for the right value; the feedback written for the value picked."""
    if response.answer is None:
        return result(definition.points, 0.0, feedback="No answer.")
    right = response.answer == definition.answer
    feedback = definition.feedback_true if response.answer else definition.feedback_false
    part = PartResult(
        part=str(response.answer).lower(),
        credit=1.0 if right else 0.0,
        correct=right,
        feedback=feedback,
    )
    return result(definition.points, part.credit, [part])


def _present_true_false(definition: TrueFalse, _seed: str) -> tuple[View, Presentation]:
    view = TrueFalseView(prompt=definition.prompt, points=definition.points)
    return view, Presentation()


def _check_nothing(_definition: TrueFalse, _response: TrueFalseResponse) -> None:
    return None


SINGLE_CHOICE = QuestionType(
    name="single_choice",
    definition=SingleChoice,
    response=SingleResponse,
    present=_present_choices,
    grade=grade_single,
    translate=_translate_single,
    check=_check_single,
)
MULTIPLE_CHOICE = QuestionType(
    name="multiple_choice",
    definition=MultipleChoice,
    response=MultipleResponse,
    present=_present_choices,
    grade=grade_multiple,
    translate=_translate_multiple,
    check=_check_multiple,
)
TRUE_FALSE = QuestionType(
    name="true_false",
    definition=TrueFalse,
    response=TrueFalseResponse,
    present=_present_true_false,
    grade=grade_true_false,
    translate=untranslated,
    check=_check_nothing,
)
