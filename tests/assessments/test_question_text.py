"""Short answers: normalisation, alternatives with credit, patterns under a time limit."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lms.assessments.questions.text import (
    ShortAnswer,
    ShortAnswerResponse,
    check_text,
    grade_short_answer,
    normalise,
)


def q(**fields: object) -> ShortAnswer:
    return ShortAnswer.model_validate({"prompt": "Capital of France?", **fields})


PARIS = q(accepted=[{"text": "Paris"}, {"text": "Lutetia", "credit": 0.5, "feedback": "Old!"}])


@pytest.mark.parametrize(
    ("text", "credit"),
    [
        ("Paris", 1.0),
        ("paris", 1.0),
        ("  PARIS\t", 1.0),
        ("\uff30\uff41\uff52\uff49\uff53", 1.0),  # full-width letters fold under NFKC
        ("Pa\u200bris", 1.0),  # a zero-width space is dropped
        ("P\u0430ris", 0.0),  # a Cyrillic a only looks alike
        ("Lutetia", 0.5),
        ("Paris!", 0.0),
        ("", 0.0),
        ("   ", 0.0),
        ("Par is", 0.0),
    ],
)
def test_normalised_comparison(text: str, credit: float) -> None:
    assert check_text(PARIS, text).credit == credit


def test_feedback_of_the_best_match() -> None:
    assert check_text(PARIS, "lutetia").feedback == "Old!"


def test_inner_whitespace_collapses_and_case_can_matter() -> None:
    question = q(accepted=[{"text": "New  York"}], case_sensitive=True)
    assert check_text(question, "New York").credit == 1.0
    assert check_text(question, "new york").credit == 0.0
    assert check_text(question, "New\u00a0York").credit == 1.0  # a no-break space


def test_punctuation_optional() -> None:
    question = q(accepted=[{"text": "St. Louis"}], ignore_punctuation=True)
    assert check_text(question, "St Louis").credit == 1.0
    assert check_text(question, "st.louis").credit == 1.0  # a mark separates words
    assert check_text(question, "stlouis").credit == 0.0
    assert check_text(question, "St. Louis!!").credit == 1.0
    assert normalise("a.b", case_sensitive=False, ignore_punctuation=True) == "a b"
    assert normalise("Don\u2019t", case_sensitive=False, ignore_punctuation=True) == "dont"


def test_patterns_match_the_whole_normalised_answer() -> None:
    question = q(patterns=[{"pattern": r"colou?r"}, {"pattern": r"hue", "credit": 0.25}])
    assert check_text(question, "Colour").credit == 1.0
    assert check_text(question, "color").credit == 1.0
    assert check_text(question, "colours").credit == 0.0
    assert check_text(question, "HUE").credit == 0.25


def test_a_catastrophic_pattern_is_unchecked_not_stuck() -> None:
    question = q(patterns=[{"pattern": r"(a|aa)+"}])
    outcome = check_text(question, "a" * 60 + "!")
    assert outcome.checked is False and outcome.credit == 0.0
    graded = grade_short_answer(question, ShortAnswerResponse(answer="a" * 60 + "!"))
    assert graded.status == "unchecked" and graded.needs_manual and graded.score == 0


def test_an_accepted_answer_decides_before_a_slow_pattern() -> None:
    question = q(accepted=[{"text": "aaaa!"}], patterns=[{"pattern": r"(a|aa)+"}])
    assert check_text(question, "aaaa!").checked is True


@pytest.mark.parametrize(
    "fields",
    [
        {},  # nothing accepted
        {"patterns": [{"pattern": "(("}]},
        {"patterns": [{"pattern": "x" * 301}]},
        {"patterns": [{"pattern": "a"}] * 11},
        {"accepted": [{"text": ""}]},
        {"accepted": [{"text": "a", "credit": 1.5}]},
    ],
)
def test_definitions_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        q(**fields)


def test_answer_length_is_capped() -> None:
    with pytest.raises(ValidationError):
        ShortAnswerResponse(answer="x" * 501)
