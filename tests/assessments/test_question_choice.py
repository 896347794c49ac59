"""Choice questions: keys must name choices, the three multiple-choice rules, feedback."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lms.assessments.errors import InvalidResponse
from lms.assessments.questions.choice import (
    MultipleChoice,
    MultipleResponse,
    SingleChoice,
    SingleResponse,
    TrueFalse,
    TrueFalseResponse,
    grade_multiple,
    grade_single,
    grade_true_false,
)
from lms.assessments.questions.registry import accept, receive, student_view

CHOICES = [
    {"id": "a", "text": "Paris", "feedback": "Yes: the capital."},
    {"id": "b", "text": "Lyon", "feedback": "Lyon is the third city."},
    {"id": "c", "text": "Nice"},
    {"id": "d", "text": "None of these", "pin": True},
]


def single() -> SingleChoice:
    return SingleChoice.model_validate(
        {"prompt": "Capital of France?", "points": 2, "choices": CHOICES, "answer": "a"}
    )


def multiple(scoring: str) -> MultipleChoice:
    return MultipleChoice.model_validate(
        {
            "prompt": "Which are in France?",
            "points": 4,
            "choices": CHOICES,
            "answers": ["a", "b"],
            "scoring": scoring,
        }
    )


def test_single_choice_right_wrong_and_unanswered() -> None:
    right = grade_single(single(), SingleResponse(choice="a"))
    assert right.score == 2 and not right.needs_manual
    assert right.parts[0].feedback == "Yes: the capital."
    wrong = grade_single(single(), SingleResponse(choice="b"))
    assert wrong.score == 0 and wrong.parts[0].feedback == "Lyon is the third city."
    assert grade_single(single(), SingleResponse()).score == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"answer": "z"},  # names no choice
        {"choices": [CHOICES[0], CHOICES[0]]},  # duplicate ids
        {"choices": [CHOICES[0]]},  # a single choice is no choice
        {"surprise": 1},  # unknown field
        {"prompt": "x" * 20_001},  # over the cap
        {"points": float("nan")},
        {"points": 0},
    ],
)
def test_single_choice_definitions_refused(bad: dict[str, object]) -> None:
    data = {"prompt": "Q", "choices": CHOICES, "answer": "a", **bad}
    with pytest.raises(ValidationError):
        SingleChoice.model_validate(data)


def test_multiple_choice_key_must_name_choices_once() -> None:
    base = {"prompt": "Q", "choices": CHOICES}
    for answers in (["a", "z"], ["a", "a"], []):
        with pytest.raises(ValidationError):
            MultipleChoice.model_validate({**base, "answers": answers})


@pytest.mark.parametrize(
    ("scoring", "picked", "score"),
    [
        ("all_or_nothing", ["a", "b"], 4),
        ("all_or_nothing", ["a"], 0),
        ("all_or_nothing", ["a", "b", "c"], 0),
        ("right_minus_wrong", ["a", "b"], 4),
        ("right_minus_wrong", ["a"], 2),
        ("right_minus_wrong", ["a", "c"], 0),
        ("right_minus_wrong", ["c", "d"], 0),  # never below zero
        ("right_minus_wrong", ["a", "b", "c"], 2),
        ("per_choice", ["a", "b"], 4),
        ("per_choice", ["a"], 3),  # a, c, d judged right; b wrong
        ("per_choice", [], 2),
        ("per_choice", ["c", "d"], 0),
    ],
)
def test_multiple_choice_scoring(scoring: str, picked: list[str], score: float) -> None:
    graded = grade_multiple(multiple(scoring), MultipleResponse(choices=picked))
    assert graded.score == score


def test_multiple_choice_feedback_only_for_picked_choices() -> None:
    graded = grade_multiple(multiple("per_choice"), MultipleResponse(choices=["b"]))
    feedback = {part.part: part.feedback for part in graded.parts}
    assert feedback == {"a": None, "b": "Lyon is the third city."}


def test_true_false() -> None:
    question = TrueFalse(prompt="2 + 2 = 4", answer=True, feedback_false="Count again.")
    assert grade_true_false(question, TrueFalseResponse(answer=True)).score == 1
    wrong = grade_true_false(question, TrueFalseResponse(answer=False))
    assert wrong.score == 0 and wrong.parts[0].feedback == "Count again."
    assert grade_true_false(question, TrueFalseResponse()).score == 0


def test_responses_are_strict() -> None:
    with pytest.raises(ValidationError):
        TrueFalseResponse.model_validate({"answer": "true"})
    with pytest.raises(ValidationError):
        MultipleResponse.model_validate({"choices": "a"})
    with pytest.raises(ValidationError):
        MultipleResponse.model_validate({"choices": ["a"] * 51})
    with pytest.raises(ValidationError):
        SingleResponse.model_validate({"choice": "a", "extra": 1})


def test_answers_naming_missing_choices_are_refused() -> None:
    with pytest.raises(InvalidResponse):
        accept(single(), {"choice": "z"})
    with pytest.raises(InvalidResponse):
        accept(multiple("per_choice"), {"choices": ["a", "a"]})
    with pytest.raises(InvalidResponse):
        receive(single(), "seed", {"choice": "a"})  # an author id is not a view token
    with pytest.raises(InvalidResponse):
        receive(single(), "seed", {"choice": "c9"})


def test_view_tokens_translate_back_to_the_picked_choice() -> None:
    question = single()
    view = student_view(question, "attempt-1")
    dumped = view.model_dump()
    paris = next(item["token"] for item in dumped["choices"] if item["text"] == "Paris")
    assert receive(question, "attempt-1", {"choice": paris}) == SingleResponse(choice="a")
    assert dumped["choices"][-1]["text"] == "None of these"  # pinned stays last
